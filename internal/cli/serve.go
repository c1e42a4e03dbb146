package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/governance"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/predlog/streamlog"
	"github.com/gyre-ml/gyre/internal/serve"
)

func init() { register(newServeCmd) }

func newServeCmd(app *App) *cobra.Command {
	var addr string
	var logPreds string
	var contract string
	var logDurable string
	var sample float64
	var reload time.Duration
	var maxBody int64
	var maxConns int
	var verifyKey string
	cmd := &cobra.Command{
		Use:   "serve MODEL_REF [MODEL_REF ...]",
		Short: "Serve models over REST (Gyre, MLflow and Open Inference v2 protocols)",
		Long: `Serve one or more models over HTTP. MODEL_REF is a bundle file or a registry
reference (NAME, NAME/VERSION, NAME@ALIAS, models:/NAME@ALIAS). Endpoints:

  POST /v1/models/{name}/predict     {"records": [{...}]} → predictions, probabilities
  POST /invocations                  MLflow: dataframe_split, dataframe_records, instances, inputs, text/csv;
                                     params {"predict_method": "predict_proba"} for class probabilities
  POST /v1/models/{name}:predict     KServe V1: {"instances": [...]} → {"predictions": [...]}
  GET  /ping  /health  /version
  POST /v2/models/{name}/infer       Open Inference Protocol v2 (content_type "pd")
  GET  /v2/health/live|ready  /v2/models/{name}[/ready]
  GET  /metrics                      Prometheus
  GET  /openapi.json

A NAME@ALIAS (or NAME) reference is re-resolved every --reload interval: moving
the alias switches the served version without failing a request.
SIGTERM or Ctrl-C drains in-flight requests and exits. Without arguments,
the models come from GYRE_MODEL_REF (comma-separated), for containers.

Unless GOGC is set, models under 64 MiB are served with a garbage-collector
target that lets the heap grow by 128 MiB between collections (rare
collections, a shorter latency tail; up to ~130 MiB more memory). Set GOGC
and/or GOMEMLIMIT to choose otherwise.`,
		Example: `  gyre serve adult.gyre --addr 127.0.0.1:8080
  gyre serve adult-income@production --log-predictions --sample 0.1
  curl -s localhost:8080/invocations -H 'Content-Type: application/json' \
    -d '{"dataframe_split": {"columns": ["age", ...], "data": [[39, ...]]}}'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) == 0 {
				// Containers may name the models by environment instead.
				for _, ref := range strings.Split(os.Getenv("GYRE_MODEL_REF"), ",") {
					if ref = strings.TrimSpace(ref); ref != "" {
						args = append(args, ref)
					}
				}
				if len(args) == 0 {
					return usageErrorf("serve: name at least one model (a bundle file or NAME@ALIAS), or set GYRE_MODEL_REF")
				}
			}
			if sample < 0 || sample > 1 {
				return usageErrorf("serve: --sample %v: want a share between 0 and 1", sample)
			}
			if maxBody <= 0 {
				return usageErrorf("serve: --max-body-bytes %d: want a positive number of bytes (default %d)", maxBody, 16<<20)
			}
			var models []serve.Model
			var regModels *registryModels
			var closers []func() error
			defer func() {
				for _, c := range closers {
					c()
				}
			}()
			var keys []ed25519.PublicKey
			if verifyKey == "" {
				verifyKey = os.Getenv("GYRE_VERIFY_KEY")
			}
			if verifyKey != "" {
				k, err := bundle.ReadPublicKey(verifyKey)
				if err != nil {
					return usageErrorf("serve: --verify-key: %v", err)
				}
				keys = append(keys, k)
			}
			opt := serve.Options{ReloadInterval: reload, Version: Version, MaxBodyBytes: maxBody,
				MaxConnsPerClient: maxConns, Logger: slog.New(slog.NewTextHandler(app.Stderr, nil))}
			for _, ref := range args {
				m, err := app.resolveModel(ctx, ref)
				if err != nil {
					return err
				}
				if keys != nil {
					if err := m.Bundle.Verify(keys...); err != nil {
						return usageErrorf("serve %s: %v: the server was given a verify key and serves signed bundles only", ref, err)
					}
				}
				if m.Version != "file" && regModels == nil {
					b, err := app.openBackend(ctx)
					if err != nil {
						return err
					}
					closers = append(closers, b.Close)
					regModels = &registryModels{reg: b.Models, keys: keys}
					opt.Resolver = regModels
				}
				models = append(models, serve.Model{Name: m.Name, Ref: ref, Bundle: m.Bundle, Version: m.Version, Reloadable: m.Registry})
			}
			plog, closeLog, err := app.openServeLog(ctx, logPreds, contract, logDurable, sample, &opt)
			if err != nil {
				return err
			}
			if closeLog != nil {
				closers = append(closers, closeLog)
			}
			srv, err := serve.New(models, opt)
			if err != nil {
				if opt.Durable != nil {
					opt.Durable.Close()
				}
				return usageErrorf("%v", err)
			}
			if plog != nil {
				// Drift scores and estimated performance over the last day
				// of logged predictions, as Prometheus gauges.
				srv.SetGauges(monitor.Gauges(ctx, plog, gaugeModels(models, regModels), 24*time.Hour, time.Minute))
			}
			return srv.ListenAndServe(ctx, addr, func(a net.Addr) {
				var names []string
				for _, m := range models {
					names = append(names, m.Name+"/"+m.Version)
				}
				if app.JSON {
					app.printJSON(map[string]any{"addr": a.String(), "models": names})
					return
				}
				fmt.Fprintf(app.Stderr, "gyre: serving %s on http://%s\n", strings.Join(names, ", "), a)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	f.StringVar(&logPreds, "log-predictions", "", "log inputs and predictions for monitoring (and take feedback): to the store, or with =kafka://BROKER/TOPIC to a topic (feedback to TOPIC.feedback)")
	f.Lookup("log-predictions").NoOptDefVal = "store"
	f.StringVar(&contract, "contract", "", "data contract whose PII columns (pii: hash|drop) are masked in the prediction log")
	f.Float64Var(&sample, "sample", 1, "share of requests logged with --log-predictions")
	f.StringVar(&logDurable, "log-durable", "", "with --log-predictions: write each logged request ahead to this local directory, fsynced before it is answered, and store what a killed server left there at start (no answered prediction is lost; see docs/monitoring.md)")
	f.DurationVar(&reload, "reload", 2*time.Second, "how often registry references are re-resolved (0: never)")
	f.Int64Var(&maxBody, "max-body-bytes", 16<<20, "largest request body accepted")
	f.StringVar(&verifyKey, "verify-key", "", "serve only bundles signed with this Ed25519 public key ('gyre models keygen'; default $GYRE_VERIFY_KEY), on every load and reload")
	f.IntVar(&maxConns, "max-conns-per-client", 256, "connections one client address may hold open (-1: no cap, e.g. behind a load balancer)")
	return cmd
}

// gaugeModels are the served models as the drift gauges watch them: a
// registry reference at the version it resolves to now.
func gaugeModels(models []serve.Model, reg *registryModels) []monitor.GaugeModel {
	out := make([]monitor.GaugeModel, len(models))
	for i, m := range models {
		out[i] = monitor.GaugeModel{Name: m.Name, Load: func(ctx context.Context) (*bundle.Bundle, string, error) {
			if m.Reloadable && reg != nil {
				if rm, err := reg.load(ctx, m.Ref); err == nil {
					return rm.Bundle, rm.Version, nil
				}
			}
			return m.Bundle, m.Version, nil
		}}
	}
	return out
}

// openServeLog opens the prediction log serve writes to when logPreds is
// set, masking the PII columns of the contract at contract path (if any)
// before it stores a batch, and sets opt's Log and Sample. It returns the
// log and the function that closes its store. With durable, the log is
// written ahead to that directory (opt.Durable). A logPreds other than
// "store" is a stream destination (kafka://...): see package streamlog.
func (a *App) openServeLog(ctx context.Context, logPreds, contract, durable string, sample float64, opt *serve.Options) (*predlog.Log, func() error, error) {
	if logPreds == "" {
		if contract != "" {
			return nil, nil, usageErrorf("serve: --contract masks the prediction log's PII columns: it needs --log-predictions")
		}
		if durable != "" {
			return nil, nil, usageErrorf("serve: --log-durable writes the prediction log ahead: it needs --log-predictions")
		}
		return nil, nil, nil
	}
	if logPreds != "store" {
		if contract != "" || durable != "" {
			return nil, nil, usageErrorf("serve: --contract and --log-durable apply to the store's prediction log, not to --log-predictions=%s", ingest.Redact(logPreds))
		}
		sl, err := streamlog.Open(logPreds)
		if err != nil {
			return nil, nil, err
		}
		opt.Log, opt.Sample = sl, sample
		return nil, sl.Close, nil
	}
	if err := a.localOnly("serve --log-predictions"); err != nil {
		return nil, nil, err
	}
	st, err := a.openStores(ctx)
	if err != nil {
		return nil, nil, err
	}
	plog := predlog.New(st.DB, st.Blobs)
	if err := plog.Upgrade(ctx); err != nil { // before serving, not on the logger's first batch
		st.Close()
		return nil, nil, failed(err)
	}
	opt.Log, opt.Sample = plog, sample
	masker, err := contractMasker(ctx, contract, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	if masker != nil { // PII columns are masked before the log stores them
		opt.Log = &governance.MaskingLog{Next: plog, Masker: masker}
	}
	if durable != "" {
		w, err := predlog.OpenWAL(durable)
		if err != nil {
			st.Close()
			return nil, nil, usageErrorf("serve: --log-durable: %v", err)
		}
		opt.Durable = w
	}
	return plog, st.Close, nil
}

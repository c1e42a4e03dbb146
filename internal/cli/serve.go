package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/serve"
	"github.com/gyre-ml/gyre/internal/serverun"
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
			lo, err := app.serveLog(ctx, logPreds, contract, logDurable, sample)
			if err != nil {
				return err
			}
			srv, err := serverun.New(ctx, serverun.Options{Refs: args, Keys: keys, Resolve: app.resolveModel, Open: app.openBackend, OpenLog: app.storeLog, Log: lo,
				Serve: serve.Options{ReloadInterval: reload, Version: Version, MaxBodyBytes: maxBody,
					MaxConnsPerClient: maxConns, Logger: slog.New(slog.NewTextHandler(app.Stderr, nil))}})
			if de := (*serverun.DurableError)(nil); errors.As(err, &de) {
				return usageErrorf("serve: --log-durable: %v", de.Err)
			}
			if err != nil {
				return err
			}
			defer srv.Close()
			return srv.ListenAndServe(ctx, addr, func(a net.Addr) {
				if app.JSON {
					app.printJSON(map[string]any{"addr": a.String(), "models": srv.Names()})
					return
				}
				fmt.Fprintf(app.Stderr, "gyre: serving %s on http://%s\n", strings.Join(srv.Names(), ", "), a)
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

// serveLog checks the prediction-log flags and reads the contract whose
// PII columns the store's log masks (with a team server configured, before
// a batch leaves for it). A logPreds other than "store" is a stream
// destination (kafka://...): see package streamlog.
func (a *App) serveLog(ctx context.Context, logPreds, contract, durable string, sample float64) (serverun.LogOptions, error) {
	lo := serverun.LogOptions{Dest: logPreds, Durable: durable, Sample: sample}
	switch {
	case logPreds == "" && contract != "":
		return lo, usageErrorf("serve: --contract masks the prediction log's PII columns: it needs --log-predictions")
	case logPreds == "" && durable != "":
		return lo, usageErrorf("serve: --log-durable writes the prediction log ahead: it needs --log-predictions")
	case logPreds == "":
		return lo, nil
	case logPreds != "store" && (contract != "" || durable != ""):
		return lo, usageErrorf("serve: --contract and --log-durable apply to the store's prediction log, not to --log-predictions=%s", ingest.Redact(logPreds))
	case logPreds != "store":
		return lo, nil
	}
	m, err := a.contractMasker(ctx, contract)
	if err != nil {
		return lo, err
	}
	lo.Masker = m
	return lo, nil
}

// storeLog opens the prediction log of the store the commands work
// against, its older logs converted (workspace.Backend.PredictionLog).
// The function returned closes it.
func (a *App) storeLog(ctx context.Context) (serverun.StoreLog, func() error, error) {
	return a.predictionLog(ctx, true)
}

package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/mlflowapi"
	"github.com/gyre-ml/gyre/internal/web"
	"github.com/gyre-ml/gyre/internal/web/ui"
)

func init() { register(newServerCmd) }

func newServerCmd(app *App) *cobra.Command {
	var addr, certFile, keyFile, bootstrap, logFormat string
	var anonRead bool
	var shutdown time.Duration
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the team server: Gyre's API, the MLflow REST API, accounts, roles and audit",
		Long: `Run one server over the metadata and artifact stores (--store, --artifacts:
SQLite and local files by default; a postgres:// URL and s3:// storage for
teams) that a team and its MLflow clients work against:

  /api/v1/...               Gyre's JSON API (OpenAPI document at /api/v1/openapi.json)
  /api/2.0/mlflow/...       the MLflow REST API (also under /ajax-api/2.0/)
  /                         the web UI (log in with a password or an API token)
  /healthz  /readyz         liveness; readiness (stores reachable)
  /metrics                  Prometheus

Every request but the probes needs an API token (Authorization: Bearer, or
MLFLOW_TRACKING_TOKEN for MLflow clients) or Basic credentials; reads are open
to anyone with --anonymous-read. The first start makes the first admin with
--bootstrap-admin NAME (or GYRE_BOOTSTRAP_ADMIN) and prints its token once;
later starts with the same setting do nothing. SIGTERM or Ctrl-C stops taking
connections and lets in-flight requests finish (--shutdown-timeout).`,
		Example: `  gyre server --bootstrap-admin alice
  gyre server --addr 0.0.0.0:5000 --store postgres://gyre@db/gyre --artifacts 's3://gyre?endpoint=minio:9000' \
    --tls-cert server.crt --tls-key server.key
  GYRE_SERVER=http://127.0.0.1:5000 gyre runs list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if (certFile == "") != (keyFile == "") {
				return usageErrorf("server: give both --tls-cert and --tls-key, or neither")
			}
			if bootstrap == "" {
				bootstrap = os.Getenv("GYRE_BOOTSTRAP_ADMIN")
			}
			var handler slog.Handler
			switch logFormat {
			case "json":
				handler = slog.NewJSONHandler(app.Stderr, nil)
			case "text":
				handler = slog.NewTextHandler(app.Stderr, nil)
			default:
				return usageErrorf("server: --log-format %q: want text or json", logFormat)
			}
			logger := slog.New(handler)
			var tlsConf *tls.Config
			if certFile != "" {
				cert, err := tls.LoadX509KeyPair(certFile, keyFile)
				if err != nil {
					return fmt.Errorf("server: load TLS certificate %s and key %s: %w", certFile, keyFile, err)
				}
				tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			}
			st, err := app.openStores(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			acc := access.New(st.DB)
			if bootstrap != "" {
				secret, err := acc.Bootstrap(ctx, bootstrap)
				switch {
				case errors.Is(err, access.ErrBootstrapped):
					logger.Info("bootstrap admin skipped: the server has an admin already", "name", bootstrap)
				case err != nil:
					return err
				default:
					fmt.Fprintf(app.Stdout, "admin %s created; its token (shown once, keep it safe):\n%s\n", bootstrap, secret)
				}
			}
			mounts, err := serverMounts(st, acc, logger)
			if err != nil {
				return failed(err)
			}
			srv, err := web.New(web.Options{DB: st.DB, Blobs: st.Blobs, Access: acc, Tracker: st.Tracker, Registry: st.Registry,
				Datasets: st.Datasets, AnonymousRead: anonRead, Logger: logger, Version: Version, ShutdownTimeout: shutdown,
				TLS: tlsConf, Mounts: mounts})
			if err != nil {
				return failed(err)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("server: listen on %s: %w", addr, err)
			}
			scheme := "http"
			if tlsConf != nil {
				scheme = "https"
			}
			logger.Info("gyre server listening", "url", scheme+"://"+ln.Addr().String(), "store", st.DB.String(),
				"artifacts", st.Blobs.String(), "anonymous_read", anonRead)
			if err := srv.Serve(ctx, ln); err != nil {
				return failed(err)
			}
			logger.Info("gyre server stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:5000", "address to listen on")
	f.StringVar(&certFile, "tls-cert", "", "TLS certificate file (PEM); with --tls-key serves HTTPS")
	f.StringVar(&keyFile, "tls-key", "", "TLS private key file (PEM)")
	f.BoolVar(&anonRead, "anonymous-read", false, "let callers without credentials read (viewer)")
	f.StringVar(&bootstrap, "bootstrap-admin", "", "make this user the first admin and print its token once (default $GYRE_BOOTSTRAP_ADMIN)")
	f.StringVar(&logFormat, "log-format", "text", "request log format on stderr: text or json")
	f.DurationVar(&shutdown, "shutdown-timeout", 30*time.Second, "how long shutdown waits for in-flight requests")
	return cmd
}

// serverMounts returns the route tables mounted beside Gyre's API: the
// MLflow REST API over the same stores, and the web UI.
func serverMounts(st *stores, acc *access.Store, logger *slog.Logger) ([]web.Mount, error) {
	api := mlflowapi.New(mlflowapi.Options{Tracker: st.Tracker, Registry: st.Registry, Datasets: st.Datasets, Blobs: st.Blobs, Logger: logger})
	pages, err := ui.New(ui.Options{Access: acc, Version: Version, Logger: logger})
	if err != nil {
		return nil, err
	}
	return []web.Mount{web.MLflow(api), pages.Mount()}, nil
}

package cli

import (
	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/retention"
	"github.com/gyre-ml/gyre/internal/web"
)

func init() { register(newGCCmd) }

func newGCCmd(app *App) *cobra.Command {
	var req web.GCRequest
	cmd := &cobra.Command{
		Use:   "gc --older-than AGE [--keep-aliased] [--dry-run]",
		Short: "Apply a retention horizon: delete unreferenced runs, artifacts, old model versions and prediction-log batches",
		Long: `Deletes what is older than the horizon and nothing kept references: run trees
that ended before it and that no kept model version references (with their
artifacts and pipeline cache entries), prediction-log batches and the labels
no kept batch joins, and blobs nothing references any more. With
--keep-aliased, model versions older than the horizon are pruned too, except
those with an alias or a Staging/Production stage and each model's latest;
without it no model version, nor anything its lineage references, is deleted.
Data set versions are never deleted. Blobs nothing ever referenced (a killed
'data version' or upload) and temporary files of killed commands (predict's
and ingest's spools in the system temp directory, the artifact store's tmp/)
go once older than --grace. Every deletion is recorded in the audit trail.
Against a team server this needs the server-wide admin role.`,
		Example: `  gyre gc --older-than 90d --keep-aliased --dry-run
  gyre gc --older-than 90d --keep-aliased`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.OlderThan == "" {
				return usageErrorf("gc: --older-than is required: an age such as 90d")
			}
			o, err := req.Options()
			if err != nil {
				return usageErrorf("gc: %v", err)
			}
			var rep *retention.Report
			if app.serverURL() != "" {
				c, err := app.client()
				if err != nil {
					return err
				}
				if rep, err = c.GC(cmd.Context(), req); err != nil {
					return err
				}
			} else {
				st, err := app.openStores(cmd.Context())
				if err != nil {
					return err
				}
				defer st.Close()
				c := &retention.Collector{DB: st.DB, Blobs: st.Blobs, Tracker: st.Tracker, Log: predlog.New(st.DB, st.Blobs)}
				if rep, err = c.Collect(cmd.Context(), o); err != nil {
					return failed(err)
				}
			}
			if app.JSON {
				return app.printJSON(rep)
			}
			return rep.WriteText(app.Stdout, !app.Quiet)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.OlderThan, "older-than", "", "the horizon's age: 90d, 2w, 12h (required)")
	f.BoolVar(&req.KeepAliased, "keep-aliased", false, "also prune old model versions, keeping aliased and staged ones and each model's latest")
	f.BoolVar(&req.DryRun, "dry-run", false, "say what would be deleted, delete nothing")
	f.StringVar(&req.Grace, "grace", "", "minimum age of never-referenced blobs and temporary files (default 24h)")
	return cmd
}

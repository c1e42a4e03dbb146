package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/web"
)

func init() { register(newAuditCmd) }

func newAuditCmd(app *App) *cobra.Command {
	var model, experiment, user, action, since, until, pageToken string
	var limit int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit trail: who changed what, when, from where, before and after",
		Long: `Every write to the store (runs, models, aliases, data sets, accounts, tokens,
grants, retention) is recorded in an append-only trail. Against a team server
this needs the admin role (server-wide, or on the model or experiment asked
for); locally it reads the store.`,
		Example: `  gyre audit --model adult-income
  gyre audit --user alice --since 7d
  gyre audit --action token. --json`,
		Args: cobra.NoArgs,
		RunE: app.withBackend(func(cmd *cobra.Command, _ []string, b *backend) error {
			q := audit.Query{Actor: user, ActionPrefix: action, Limit: limit, PageToken: pageToken}
			if model != "" && experiment != "" {
				return usageErrorf("audit: give --model or --experiment, not both")
			}
			if model != "" {
				q.ResourceKind, q.Resource = "model", model
			}
			if experiment != "" {
				q.ResourceKind, q.Resource = "experiment", experiment
			}
			now := time.Now()
			var err error
			if q.Since, err = web.ParseWhen(since, now, time.Local); err != nil {
				return usageErrorf("audit: --since: %v", err)
			}
			if q.Until, err = web.ParseWhen(until, now, time.Local); err != nil {
				return usageErrorf("audit: --until: %v", err)
			}
			es, next, err := b.Audit.List(cmd.Context(), q)
			if err != nil {
				return storeError(err)
			}
			if app.JSON {
				return app.printJSON(web.List[audit.Entry]{Items: es, NextPageToken: next})
			}
			return audit.WriteEntries(app.Stdout, es, next)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "only this registered model's entries")
	f.StringVar(&experiment, "experiment", "", "only this experiment's entries (by id)")
	f.StringVar(&user, "user", "", "only this user's writes")
	f.StringVar(&action, "action", "", "only actions starting with this (model.alias, token.)")
	f.StringVar(&since, "since", "", "from this time: RFC 3339, a date, or an age like 7d or 12h")
	f.StringVar(&until, "until", "", "before this time: RFC 3339 or a date")
	f.IntVar(&limit, "limit", 100, "entries per page (at most 1000)")
	f.StringVar(&pageToken, "page-token", "", "continue after a previous page")
	return cmd
}

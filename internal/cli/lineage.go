package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newLineageCmd) }

func newLineageCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "lineage MODEL_REF",
		Short: "Trace a model version back to its run, params and data set versions",
		Example: `  gyre lineage adult-income@production
  gyre lineage models:/adult-income/3 --json`,
		Args: cobra.ExactArgs(1),
		RunE: app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			l, err := b.Lineage(cmd.Context(), args[0])
			if err != nil {
				return storeError(err)
			}
			return app.print(l)
		}),
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

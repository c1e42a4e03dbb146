package cli

import (
	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/learn"
)

func init() { register(newLearnersCmd) }

func newLearnersCmd(app *App) *cobra.Command {
	return command("learners [NAME]", "List learners and their hyperparameters", "  gyre learners\n  gyre learners gbdt\n  gyre learners --json", cobra.MaximumNArgs(1),
		func(cmd *cobra.Command, args []string) error {
			ds, err := learn.Describe(args...)
			if err != nil {
				return usageErrorf("learners: %v", err)
			}
			if app.JSON {
				return app.printJSON(ds)
			}
			return learn.WriteDescriptions(app.Stdout, ds)
		})
}

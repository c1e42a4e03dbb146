package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/learn"
)

func init() { register(newLearnersCmd) }

func newLearnersCmd(app *App) *cobra.Command {
	return command("learners [NAME]", "List learners and their hyperparameters", "  gyre learners\n  gyre learners gbdt\n  gyre learners --json", cobra.MaximumNArgs(1),
		func(cmd *cobra.Command, args []string) error {
			names := learn.Names()
			if len(args) == 1 {
				if _, err := learn.Lookup(args[0]); err != nil {
					return usageErrorf("learners: %v", err)
				}
				names = args
			}
			type entry struct {
				Name    string        `json:"name"`
				Summary string        `json:"summary"`
				Tasks   []string      `json:"tasks"`
				Params  []learn.Param `json:"params"`
			}
			var out []entry
			for _, n := range names {
				s, _ := learn.Lookup(n)
				e := entry{Name: n, Summary: s.Summary, Params: learn.Params(s.New())}
				for _, t := range s.Tasks {
					e.Tasks = append(e.Tasks, t.String())
				}
				out = append(out, e)
			}
			if app.JSON {
				return app.printJSON(out)
			}
			for _, e := range out {
				fmt.Fprintf(app.Stdout, "%s  (%s)\n  %s\n", e.Name, strings.Join(e.Tasks, ", "), e.Summary)
				for _, p := range e.Params {
					fmt.Fprintf(app.Stdout, "    %-24s %-8s default %-10s %s\n", p.Name, p.Type, p.Default, p.Help)
				}
				fmt.Fprintln(app.Stdout)
			}
			return nil
		})
}

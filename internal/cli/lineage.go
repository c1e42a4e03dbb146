package cli

import (
	"fmt"
	"sort"

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
			if app.JSON {
				return app.printJSON(l)
			}
			w := app.Stdout
			v := l.Model
			fmt.Fprintf(w, "model %s", v.Ref())
			if len(v.Aliases) > 0 {
				fmt.Fprintf(w, " (%v)", v.Aliases)
			}
			if l.Classification != "" {
				fmt.Fprintf(w, " [%s]", l.Classification)
			}
			fmt.Fprintf(w, "  bundle %s, registered %s by %s\n", short(v.Bundle.Digest[7:]), v.Created.Local().Format("2006-01-02 15:04"), v.CreatedBy)
			if r := l.Run; r != nil {
				fmt.Fprintf(w, "  ← run %s  experiment %s, %s, %s\n", r.ID, r.Experiment, r.Status, r.Start.Local().Format("2006-01-02 15:04:05"))
				if r.Command != "" {
					fmt.Fprintf(w, "      command      %s\n", r.Command)
				}
				fmt.Fprintf(w, "      gyre         %s\n", orDash(r.GyreVersion))
				fmt.Fprintf(w, "      git commit   %s\n", orDash(r.GitCommit))
				for _, k := range sortedMapKeys(r.Params) {
					fmt.Fprintf(w, "      param        %s = %s\n", k, r.Params[k])
				}
				for _, k := range sortedMapKeys(r.Metrics) {
					fmt.Fprintf(w, "      metric       %s = %.6g\n", k, r.Metrics[k])
				}
			}
			for _, d := range l.Datasets {
				class := ""
				if d.Classification != "" {
					class = " [" + string(d.Classification) + "]"
				}
				fmt.Fprintf(w, "  ← data set %s%s  %s, %d rows × %d columns, %s\n", d.Ref(), class, short(d.Blob.Digest[7:]), d.Summary.Rows, len(d.Summary.Columns), d.Source)
			}
			for _, m := range l.Missing {
				fmt.Fprintf(w, "  ← missing: %s\n", m)
			}
			return nil
		}),
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedMapKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

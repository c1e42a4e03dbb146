package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() {
	dataSubcommands = append(dataSubcommands, newDataVersionCmd, newDataLogCmd, newDataDiffCmd, newDataGetCmd)
}

func newDataVersionCmd(app *App) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "version FILE --name NAME",
		Short: "Snapshot a data file by content as a new data set version",
		Long: `Store the file in the artifact store under its SHA-256 digest and record a new
version of the named data set with its schema, row count and column statistics.
Unchanged content returns the existing version; an unchanged file (same size
and modification time) is not even rehashed.`,
		Example: "  gyre data version examples/data/adult/adult.train.csv --name adult",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usageErrorf("data version: --name is required, e.g. --name adult")
			}
			b, err := app.openBackend(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			res, err := b.Data.Version(cmd.Context(), args[0], name)
			if err != nil {
				return storeError(err)
			}
			if app.JSON {
				return app.printJSON(res)
			}
			state := "new version"
			if !res.Created {
				state = "unchanged"
			}
			fmt.Fprintf(app.Stdout, "%s  %s  %s, %d rows × %d columns\n", res.Ref(), state, short(res.Blob.Digest[7:]), res.Summary.Rows, len(res.Summary.Columns))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "data set name (letters, digits, - _ .)")
	return cmd
}

func newDataLogCmd(app *App) *cobra.Command {
	return command("log NAME", "List a data set's versions", "  gyre data log adult", cobra.ExactArgs(1),
		app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			vs, err := b.Data.Log(cmd.Context(), args[0])
			if err != nil {
				return storeError(err)
			}
			if app.JSON {
				return app.printJSON(vs)
			}
			tw := app.table("VERSION", "CREATED", "BY", "ROWS", "COLUMNS", "SIZE", "DIGEST", "CLASS", "SOURCE")
			for _, v := range vs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", v.Ref(), v.Created.Local().Format("2006-01-02 15:04"), v.CreatedBy, v.Summary.Rows,
					len(v.Summary.Columns), v.Blob.Size, short(v.Blob.Digest[7:]), orDash(string(v.Classification)), v.Source)
			}
			return tw.Flush()
		}))
}

func newDataDiffCmd(app *App) *cobra.Command {
	return command("diff NAME@V1 NAME@V2", "Compare two data set versions: schema, rows, column statistics", "  gyre data diff adult@1 adult@2", cobra.ExactArgs(2),
		app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			d, err := b.Data.Diff(cmd.Context(), args[0], args[1])
			if err != nil {
				return storeError(err)
			}
			if app.JSON {
				return app.printJSON(d)
			}
			w := app.Stdout
			fmt.Fprintf(w, "%s → %s\n", d.From, d.To)
			if d.SameContent {
				fmt.Fprintln(w, "identical content")
				return nil
			}
			fmt.Fprintf(w, "rows: %d → %d (%+d)\n", d.RowsFrom, d.RowsTo, d.RowsTo-d.RowsFrom)
			if len(d.Added) > 0 {
				fmt.Fprintf(w, "added columns: %s\n", strings.Join(d.Added, ", "))
			}
			if len(d.Removed) > 0 {
				fmt.Fprintf(w, "removed columns: %s\n", strings.Join(d.Removed, ", "))
			}
			for _, c := range d.Changed {
				fmt.Fprintf(w, "%s:\n", c.Column)
				for _, s := range c.Changes {
					fmt.Fprintf(w, "  %-9s %s → %s\n", s.Stat, orDash(s.From), orDash(s.To))
				}
			}
			return nil
		}))
}

func newDataGetCmd(app *App) *cobra.Command {
	return command("get NAME[@VERSION] OUT", "Write a data set version's file to OUT", "  gyre data get adult@1 adult-v1.csv", cobra.ExactArgs(2),
		app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			v, err := b.Data.Export(cmd.Context(), args[0], args[1])
			if err != nil {
				return storeError(err)
			}
			return app.done(map[string]any{"dataset": v.Ref(), "out": args[1], "digest": v.Blob.Digest, "size": v.Blob.Size}, "wrote %s to %s (%d bytes)", v.Ref(), args[1], v.Blob.Size)
		}))
}

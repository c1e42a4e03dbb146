package cli

import (
	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/dataset"
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
			return app.print(res)
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
			return dataset.WriteVersions(app.Stdout, vs)
		}))
}

func newDataDiffCmd(app *App) *cobra.Command {
	return command("diff NAME@V1 NAME@V2", "Compare two data set versions: schema, rows, column statistics", "  gyre data diff adult@1 adult@2", cobra.ExactArgs(2),
		app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			d, err := b.Data.Diff(cmd.Context(), args[0], args[1])
			if err != nil {
				return storeError(err)
			}
			return app.print(d)
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

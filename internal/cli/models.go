package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/workspace"
	"github.com/spf13/cobra"
)

func init() { register(newModelsCmd) }

func newModelsCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "Manage registered models, versions and aliases",
		Long: `The model registry: named models with numbered versions (each a bundle plus the run
and data set versions that made it) and aliases such as staging and production,
with an audit trail of every alias move. References: NAME (latest), NAME/VERSION,
NAME@ALIAS, models:/NAME/VERSION, models:/NAME@ALIAS.`,
		Example: `  gyre models register adult-income model.gyre --run 3f2a9c
  gyre models alias adult-income 3 production
  gyre models show adult-income`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newModelsListCmd(app), newModelsShowCmd(app), newModelsRegisterCmd(app), newModelsAliasCmd(app),
		newModelsUnaliasCmd(app), newModelsDeleteCmd(app), newModelsKeygenCmd(app), newModelsSignCmd(app),
		newModelsImportCmd(app), newModelsClassifyCmd(app))
	return cmd
}

func newModelsListCmd(app *App) *cobra.Command {
	return command("list", "List registered models", "  gyre models list\n  gyre models list --json", cobra.NoArgs,
		app.withBackend(func(cmd *cobra.Command, _ []string, b *backend) error {
			ms, err := b.Models.Models(cmd.Context())
			if err != nil {
				return storeError(err)
			}
			if app.JSON {
				return app.printJSON(ms)
			}
			return registry.WriteModels(app.Stdout, ms)
		}))
}

func newModelsShowCmd(app *App) *cobra.Command {
	return command("show NAME|REF", "Show a model's versions and alias history, or one version", "  gyre models show adult-income\n  gyre models show adult-income@production --json", cobra.ExactArgs(1),
		app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			v, d, err := b.Show(cmd.Context(), args[0])
			switch {
			case err != nil:
				return storeError(err)
			case v != nil && app.JSON:
				return app.printJSON(v)
			case v != nil:
				return v.WriteText(app.Stdout)
			case app.JSON:
				return app.printJSON(d)
			}
			return d.WriteText(app.Stdout)
		}))
}

// short returns the first 12 characters of an identifier or digest.
func short(s string) string { return registry.Short(s) }

func newModelsRegisterCmd(app *App) *cobra.Command {
	var runID, desc string
	var datasets []string
	cmd := &cobra.Command{
		Use:   "register NAME BUNDLE_PATH",
		Short: "Register a bundle file as a new model version",
		Example: `  gyre models register adult-income model.gyre
  gyre models register adult-income model.gyre --run 3f2a9c --dataset adult@2 --description "gbdt, 500 trees"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := registry.CheckName("model", args[0]); err != nil {
				return err
			}
			if _, err := os.Stat(args[1]); err != nil {
				return fmt.Errorf("register %s: %w", args[0], err)
			}
			// Verify the whole bundle (every entry's checksum, the
			// manifest's digest, the models decode) before it becomes a
			// version: a truncated or foreign file is refused here.
			if _, err := bundle.Load(args[1]); err != nil {
				return usageErrorf("register %s: %s is not a valid Gyre bundle: %v", args[0], args[1], err)
			}
			b, err := app.openBackend(ctx)
			if err != nil {
				return err
			}
			defer b.Close()
			o := registry.RegisterOptions{Description: desc}
			if err := b.Provenance(ctx, &o, runID, datasets); err != nil {
				if de := (*workspace.DatasetError)(nil); errors.As(err, &de) {
					return storeError(fmt.Errorf("--dataset: %w", de.Err))
				}
				return storeError(err)
			}
			v, err := b.RegisterFile(ctx, args[0], args[1], o)
			if err != nil {
				return storeError(err)
			}
			return app.done(v, "registered %s (bundle %s)", v.Ref(), short(strings.TrimPrefix(v.Bundle.Digest, "sha256:")))
		},
	}
	f := cmd.Flags()
	f.StringVar(&runID, "run", "", "the run that produced the bundle (its data sets are linked too)")
	f.StringSliceVar(&datasets, "dataset", nil, "data set versions trained on, as NAME@VERSION (repeatable)")
	f.StringVar(&desc, "description", "", "version description")
	return cmd
}

func newModelsAliasCmd(app *App) *cobra.Command {
	return command("alias NAME VERSION ALIAS", "Point an alias (staging, production, ...) at a version", "  gyre models alias adult-income 3 production", cobra.ExactArgs(3),
		func(cmd *cobra.Command, args []string) error {
			v, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || v <= 0 {
				return usageErrorf("models alias: version %q: want a positive number", args[1])
			}
			b, err := app.openBackend(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			if err := b.Models.SetAlias(cmd.Context(), args[0], args[2], v); err != nil {
				return storeError(err)
			}
			return app.done(map[string]any{"model": args[0], "alias": args[2], "version": v}, "%s@%s → version %d", args[0], args[2], v)
		})
}

func newModelsUnaliasCmd(app *App) *cobra.Command {
	return command("unalias NAME ALIAS", "Remove an alias", "  gyre models unalias adult-income staging", cobra.ExactArgs(2),
		app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			if err := b.Models.DeleteAlias(cmd.Context(), args[0], args[1]); err != nil {
				return storeError(err)
			}
			return app.done(map[string]any{"model": args[0], "removed_alias": args[1]}, "removed %s@%s", args[0], args[1])
		}))
}

func newModelsDeleteCmd(app *App) *cobra.Command {
	return command("delete NAME[/VERSION]", "Delete a model version, or a whole model", "  gyre models delete adult-income/2\n  gyre models delete adult-income", cobra.ExactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			ref, err := registry.ParseRef(args[0])
			if err != nil {
				return err
			}
			if ref.Alias != "" {
				return usageErrorf("models delete %s: give NAME or NAME/VERSION, not an alias", args[0])
			}
			b, err := app.openBackend(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			if ref.Version > 0 {
				err = b.Models.DeleteVersion(cmd.Context(), ref.Name, ref.Version)
			} else {
				err = b.Models.DeleteModel(cmd.Context(), ref.Name)
			}
			if err != nil {
				return storeError(err)
			}
			return app.done(map[string]any{"deleted": ref.String()}, "deleted %s", ref)
		})
}

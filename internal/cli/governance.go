package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/apiclient"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/governance"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/validate"
)

func init() { dataSubcommands = append(dataSubcommands, newDataClassifyCmd) }

const classifyLong = `Classifications are public, internal or pii ("none" clears one). They show
in listings and lineage, and every change is in the audit trail. Against a team
server this needs the admin role (of the model; server-wide for data sets).`

// The classifying stores, local (registry.Registry, dataset.Catalog) or a
// team server's (apiclient).
type (
	modelClassifier interface {
		SetClassification(ctx context.Context, name string, c validate.Classification) error
	}
	dataClassifier interface {
		Classify(ctx context.Context, ref string, c validate.Classification) (*dataset.Version, error)
	}
)

// Both backends classify (the commands assert these).
var (
	_ modelClassifier = (*registry.Registry)(nil)
	_ modelClassifier = (*apiclient.Registry)(nil)
	_ dataClassifier  = (*dataset.Catalog)(nil)
	_ dataClassifier  = (*apiclient.Datasets)(nil)
)

func newDataClassifyCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:     "classify NAME[@VERSION] public|internal|pii|none",
		Short:   "Classify a data set version (later versions inherit it)",
		Long:    classifyLong,
		Example: "  gyre data classify customers pii\n  gyre data classify customers@3 internal",
		Args:    cobra.ExactArgs(2),
		RunE: app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			c, err := validate.ParseClassification(args[1])
			if err != nil {
				return usageErrorf("data classify: %v", err)
			}
			if _, _, err := dataset.ParseRef(args[0]); err != nil {
				return usageErrorf("data classify: %v", err)
			}
			v, err := b.Data.(dataClassifier).Classify(cmd.Context(), args[0], c)
			if err != nil {
				return storeError(err)
			}
			return app.done(v, "data set %s: %s", v.Ref(), orDash(string(v.Classification)))
		}),
	}
}

func newModelsClassifyCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:     "classify NAME public|internal|pii|none",
		Short:   "Classify a registered model",
		Long:    classifyLong,
		Example: "  gyre models classify churn pii",
		Args:    cobra.ExactArgs(2),
		RunE: app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			c, err := validate.ParseClassification(args[1])
			if err != nil {
				return usageErrorf("models classify: %v", err)
			}
			if err := registry.CheckName("model", args[0]); err != nil {
				return usageErrorf("models classify: %v", err)
			}
			if err := b.Models.(modelClassifier).SetClassification(cmd.Context(), args[0], c); err != nil {
				return storeError(err)
			}
			m, err := b.Models.Model(cmd.Context(), args[0])
			if err != nil {
				return storeError(err)
			}
			return app.done(m, "model %s: %s", m.Name, orDash(string(m.Classification)))
		}),
	}
}

// contractMasker returns the masker of the PII columns the contract at
// path declares, or nil when path is empty or the contract declares none.
func (a *App) contractMasker(ctx context.Context, path string) (*governance.Masker, error) {
	if path == "" {
		return nil, nil
	}
	c, err := validate.LoadContract(path)
	if err != nil {
		return nil, err
	}
	return a.masker(ctx, c)
}

// masker returns the masker of a contract's PII columns, or nil when it
// declares none. Hashes are keyed with the salt of the store the commands
// work against (workspace.Backend.MaskingSalt).
func (a *App) masker(ctx context.Context, c *validate.Contract) (*governance.Masker, error) {
	m, err := governance.ContractMasker(ctx, c, func(ctx context.Context) ([]byte, error) {
		b, err := a.openBackend(ctx)
		if err != nil {
			return nil, err
		}
		defer b.Close()
		return b.MaskingSalt(ctx)
	})
	if se := (*governance.SaltError)(nil); errors.As(err, &se) {
		return nil, storeError(se.Err)
	}
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return m, nil
}

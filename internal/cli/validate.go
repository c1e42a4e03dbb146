package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/dataprep"
	"github.com/gyre-ml/gyre/internal/governance"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/validate"
)

func init() { register(newValidateCmd) }

func newValidateCmd(app *App) *cobra.Command {
	var (
		against, contractPath, derive, htmlOut, target string
		methods                                        []string
		driftShare                                     float64
		seed                                           uint64
	)
	cmd := &cobra.Command{
		Use:   "validate [SOURCE]",
		Short: "Validate data against a reference (drift) or a data contract",
		Long: `Validate checks SOURCE against a reference data set or saved profile (--against):
schema, unseen categories and out-of-range values, missing shares, drift per column
with Evidently's defaults (reference ≤ 1000 rows: KS / chi-square / z-test at
p < 0.05; larger: Wasserstein/std and Jensen–Shannon ≥ 0.1; data-set drift when
≥ 50% of columns drift) and moved correlations; or against a YAML data contract
(--contract). --derive REFERENCE prints a contract the reference satisfies.

Exit code 1 when an error-severity check fails (a drifted column, a missing
column, a contract violation), 2 for bad input.`,
		Example: `  gyre validate adult.test.csv --against adult.train.csv --html drift.html
  gyre profile adult.train.csv --save ref.json && gyre validate new.csv --against ref.json
  gyre validate --derive adult.train.csv > contract.yaml
  gyre validate new.csv --contract contract.yaml
  gyre validate new.csv --against ref.json --method age=psi:0.2 --method workclass=chisquare`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if derive != "" {
				if len(args) > 0 || against != "" || contractPath != "" {
					return usageErrorf("validate: --derive REFERENCE takes no SOURCE, --against or --contract")
				}
				ref, err := dataprep.Reference(cmd.Context(), derive, app.referenceOptions(target, seed, nil))
				if err != nil {
					return err
				}
				c := validate.Derive(ref, validate.DeriveOptions{})
				if app.JSON {
					return app.printJSON(c)
				}
				if err := c.WriteYAML(app.Stdout); err != nil {
					return failed(err)
				}
				return nil
			}
			if len(args) == 0 {
				return usageErrorf("validate: missing SOURCE (see 'gyre validate --help')")
			}
			if against == "" && contractPath == "" {
				return usageErrorf("validate: give --against REFERENCE or --contract FILE (or --derive REFERENCE)")
			}
			opts := validate.Options{Drift: validate.DriftOptions{DriftShare: driftShare, Columns: map[string]validate.ProblemOptions{}}, Seed: seed}
			var contract *validate.Contract
			if contractPath != "" {
				c, err := validate.LoadContract(contractPath)
				if err != nil {
					return usageErrorf("%w", err)
				}
				contract = c
				for k, v := range c.Drift {
					opts.Drift.Columns[k] = v
				}
			}
			for _, m := range methods {
				col, o, err := validate.ParseColumnMethod(m)
				if err != nil {
					return usageErrorf("validate: --method %q: %w", m, err)
				}
				opts.Drift.Columns[col] = o
			}
			cur, err := app.readData(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			// PII columns the contract declares are masked in the report:
			// drift and profiles are computed on masked data, contract
			// findings name masked values (the checks see the raw ones).
			pii, err := app.piiMasker(cmd, contract)
			if err != nil {
				return err
			}
			rep, err := dataprep.Validate(cmd.Context(), cur, dataprep.ValidateOptions{Source: args[0], Against: against, Contract: contract, ContractPath: contractPath,
				Reference: app.referenceOptions(target, seed, pii), Options: opts,
				Validating: func() func() { return app.progress(-1, "validating").Done }})
			if err != nil {
				return referenceError(err)
			}
			if htmlOut != "" {
				if err := writeFileAtomic(htmlOut, report.ValidationPage(rep).Render); err != nil {
					return failed(fmt.Errorf("validate: html: %w", err))
				}
			}
			if app.JSON {
				if err := app.printJSON(rep); err != nil {
					return err
				}
			} else {
				if err := rep.WriteText(app.Stdout); err != nil {
					return failed(err)
				}
				if htmlOut != "" {
					fmt.Fprintf(app.Stdout, "wrote %s\n", htmlOut)
				}
			}
			if !rep.Passed {
				return fmt.Errorf("validate: %d error findings (columns: %s): %w", rep.Errors, strings.Join(rep.FailedColumns(), ", "), ErrCheckFailed)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&against, "against", "", "reference: a data file or a profile saved with 'gyre profile --save'")
	fl.StringVar(&contractPath, "contract", "", "YAML data contract to check")
	fl.StringVar(&derive, "derive", "", "print a contract derived from this reference (data file or saved profile)")
	fl.StringVar(&htmlOut, "html", "", "write a self-contained HTML report to this file")
	fl.StringVar(&target, "target", "", "target column of a reference data file (its drift is not tested)")
	fl.StringArrayVar(&methods, "method", nil, "per-column drift test COLUMN=METHOD[:THRESHOLD] (ks, chisquare, ztest, wasserstein, jensenshannon, psi) or COLUMN=skip; repeatable")
	fl.Float64Var(&driftShare, "drift-share", 0.5, "share of drifted columns at which the data set drifts")
	fl.Uint64Var(&seed, "seed", 0, "seed for sampling")
	return cmd
}

// referenceOptions are how the reference is read and profiled: the
// command's reader, the PII columns masked.
func (a *App) referenceOptions(target string, seed uint64, pii *governance.Masker) dataprep.ReferenceOptions {
	o := dataprep.ReferenceOptions{Target: target, Seed: seed, Load: a.readData}
	if pii != nil {
		o.Mask = pii
	}
	return o
}

// referenceError words a saved reference profile holding a PII column
// unmasked.
func referenceError(err error) error {
	if ue := (*dataprep.UnmaskedProfileError)(nil); errors.As(err, &ue) {
		return usageErrorf("validate: %v: save the reference with 'gyre profile SOURCE --contract CONTRACT --save %s'", ue, ue.Path)
	}
	return err
}

// piiMasker returns the masker of the contract's PII columns, or nil when
// there is no contract or it declares none.
func (a *App) piiMasker(cmd *cobra.Command, c *validate.Contract) (*governance.Masker, error) {
	if c == nil {
		return nil, nil
	}
	return a.masker(cmd.Context(), c)
}

package cli

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/governance"
	"github.com/gyre-ml/gyre/internal/profile"
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
				ref, err := loadReference(cmd, app, derive, target, seed, nil)
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
			cur, err := readData(cmd, app, args[0])
			if err != nil {
				return err
			}
			// PII columns the contract declares are masked in the report:
			// drift and profiles are computed on masked data, contract
			// findings name masked values (the checks see the raw ones).
			pii, err := app.piiMasks(cmd, contract)
			if err != nil {
				return err
			}
			var rep *validate.Report
			if against != "" {
				ref, err := loadReference(cmd, app, against, target, seed, pii)
				if err != nil {
					return err
				}
				masked, err := pii.frame(cur)
				if err != nil {
					return err
				}
				bar := app.progress(-1, "validating")
				rep, err = validate.Against(cmd.Context(), ref, masked, opts)
				bar.Done()
				if err != nil {
					if cmd.Context().Err() != nil {
						return failed(err)
					}
					return usageErrorf("%w (reference %s, source %s)", err, against, args[0])
				}
				rep.Reference = filepath.Base(against)
				if contract != nil {
					rep.Add(validate.CheckContractMasked(contract, cur, pii.hash())...)
				}
			} else {
				rep = validate.CheckAgainstContractMasked(contract, cur, pii.hash())
				rep.Reference = filepath.Base(contractPath)
			}
			rep.Source = filepath.Base(args[0])
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

// loadReference reads a saved profile (JSON written by 'gyre profile
// --save') or profiles a data source, its PII columns masked first. A saved
// profile must hold them masked already (gyre profile --contract).
func loadReference(cmd *cobra.Command, app *App, path, target string, seed uint64, pii *piiMasks) (*profile.Profile, error) {
	if p, ok, err := profile.ReadSaved(path); ok {
		if err != nil {
			return nil, usageErrorf("%w", err)
		}
		if err := pii.checkProfile(path, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	f, err := readData(cmd, app, path)
	if err != nil {
		return nil, err
	}
	if f, err = pii.frame(f); err != nil {
		return nil, err
	}
	p, err := profile.Compute(cmd.Context(), f, profile.Options{Target: target, Seed: seed, Source: filepath.Base(path)})
	if err != nil {
		if cmd.Context().Err() != nil {
			return nil, failed(err)
		}
		return nil, usageErrorf("reference %s: %w", path, err)
	}
	return p, nil
}

// piiMasks are the PII columns of a contract and their masker (nil: none).
type piiMasks struct {
	masks  map[string]validate.Mask
	masker *governance.Masker
}

// piiMasks returns the masks of the contract's PII columns, or nil when
// there is no contract or it declares none.
func (a *App) piiMasks(cmd *cobra.Command, c *validate.Contract) (*piiMasks, error) {
	if c == nil {
		return nil, nil
	}
	m, err := a.masker(cmd.Context(), c)
	if err != nil || m == nil {
		return nil, err
	}
	return &piiMasks{masks: c.Masks(), masker: m}, nil
}

// frame returns f with its PII columns masked.
func (p *piiMasks) frame(f *frame.Frame) (*frame.Frame, error) {
	if p == nil {
		return f, nil
	}
	out, err := p.masker.Frame(f)
	return out, failed(err)
}

// hash returns the hash of a value as the masks show it, or nil when no
// column is hashed.
func (p *piiMasks) hash() func(string) string {
	if p == nil || !slices.Contains(slices.Collect(maps.Values(p.masks)), validate.MaskHash) {
		return nil
	}
	return p.masker.Hash
}

// checkProfile refuses a saved reference profile that holds a PII column
// unmasked: its values would reach the report.
func (p *piiMasks) checkProfile(path string, prof *profile.Profile) error {
	if p == nil {
		return nil
	}
	for _, c := range prof.Columns {
		m, ok := p.masks[c.Name]
		if !ok {
			continue
		}
		masked := m == validate.MaskHash && c.Numeric == nil && c.Categories != nil
		if masked {
			for _, cc := range c.Categories.Counts {
				if !strings.HasPrefix(cc.Value, "pii:") {
					masked = false
					break
				}
			}
		}
		if !masked {
			return usageErrorf("validate: reference %s holds the PII column %s unmasked (the contract masks it with %s): save the reference with 'gyre profile SOURCE --contract CONTRACT --save %s'", path, c.Name, m, path)
		}
	}
	return nil
}

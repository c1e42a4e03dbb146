package validate

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/profile"
)

// Finding is one check result worth reporting.
type Finding struct {
	// Check is a stable identifier: missing_column, extra_column, type,
	// row_count, missing_share, out_of_range, new_category, unique, drift,
	// dataset_drift, correlation, target_correlation.
	Check    string           `json:"check"`
	Column   string           `json:"column,omitempty"`
	Severity profile.Severity `json:"severity"`
	Message  string           `json:"message"`
	// Value is the measured quantity (a count, share, statistic), if any.
	Value float64 `json:"value"`
}

// Report is the outcome of a validation.
type Report struct {
	Source    string    `json:"source,omitempty"`
	Reference string    `json:"reference,omitempty"`
	Rows      int       `json:"rows"`
	Findings  []Finding `json:"findings"`
	// Drift is set when validating against a reference.
	Drift *DriftReport `json:"drift,omitempty"`
	// Errors and Warnings count findings by severity.
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	// Passed is true when no finding is an error.
	Passed bool `json:"passed"`
	// Current is the current data's profile (for reports), when computed.
	Current *profile.Profile `json:"-"`
}

// Options configures Against.
type Options struct {
	// Drift configures the distribution tests.
	Drift DriftOptions
	// CorrelationTolerance is the absolute change of a correlation (Pearson
	// between numeric features, association with the target) above which a
	// warning is raised (default 0.2).
	CorrelationTolerance float64
	// MissingTolerance is the increase of a column's missing share above
	// which a warning is raised (default 0.1).
	MissingTolerance float64
	// Seed makes the current profile deterministic.
	Seed uint64
}

// Against validates cur against a reference profile: schema (missing,
// extra and retyped columns), out-of-distribution values (outside the
// reference range, unseen categories), missing-share increases, drift per
// column and for the data set, and moved correlations. Drifted columns and
// schema breaks are errors; the rest are warnings or information.
func Against(ctx context.Context, ref *profile.Profile, cur *frame.Frame, opts Options) (*Report, error) {
	if opts.CorrelationTolerance <= 0 {
		opts.CorrelationTolerance = 0.2
	}
	if opts.MissingTolerance <= 0 {
		opts.MissingTolerance = 0.1
	}
	overlap := 0
	for _, c := range ref.Columns {
		if cur.Index(c.Name) >= 0 {
			overlap++
		}
	}
	if overlap == 0 {
		return nil, fmt.Errorf("validate: %w: reference columns %v, current columns %v", ErrNoOverlap, refNames(ref), cur.Names())
	}
	rep := &Report{Rows: cur.NumRows(), Findings: []Finding{}}
	add := func(f Finding) { rep.Findings = append(rep.Findings, f) }
	target := ref.Target
	if target != "" && cur.Index(target) < 0 {
		target = ""
	}
	curProf, err := profile.Compute(ctx, cur, profile.Options{Target: target, Seed: opts.Seed})
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	rep.Current = curProf
	for i := range ref.Columns {
		rc := &ref.Columns[i]
		c, err := cur.Column(rc.Name)
		if err != nil {
			sev := profile.Error
			if rc.Name == ref.Target {
				sev = profile.Info
			}
			add(Finding{Check: "missing_column", Column: rc.Name, Severity: sev, Message: fmt.Sprintf("column %s of the reference is missing", rc.Name)})
			continue
		}
		if !kindCompatible(rc.Kind, c.Kind()) && !kindCompatible(c.Kind(), rc.Kind) {
			add(Finding{Check: "type", Column: rc.Name, Severity: profile.Error, Message: fmt.Sprintf("%s is %s, the reference has %s", rc.Name, c.Kind(), rc.Kind)})
			continue
		}
		cc := curProf.Column(rc.Name)
		if d := cc.MissingShare - rc.MissingShare; d > opts.MissingTolerance {
			add(Finding{Check: "missing_share", Column: rc.Name, Severity: profile.Warn, Value: cc.MissingShare,
				Message: fmt.Sprintf("%s is missing in %.1f%% of rows, %.1f%% in the reference", rc.Name, 100*cc.MissingShare, 100*rc.MissingShare)})
		}
		if rc.Numeric != nil && cc.Count > 0 {
			if vals, ok := profile.NumericValues(c); ok {
				bad := 0
				for _, v := range vals {
					if v < rc.Numeric.Min || v > rc.Numeric.Max {
						bad++
					}
				}
				if bad > 0 {
					add(Finding{Check: "out_of_range", Column: rc.Name, Severity: profile.Warn, Value: float64(bad),
						Message: fmt.Sprintf("%s: %d values (%.2f%%) outside the reference range [%g, %g]", rc.Name, bad, 100*float64(bad)/float64(len(vals)), rc.Numeric.Min, rc.Numeric.Max)})
				}
			}
		}
		if cat := rc.Categories; cat != nil && cat.Other == 0 && !rc.LikelyID && cc.Categories != nil {
			known := cat.Map()
			newVals := map[string]int{}
			bad := 0
			for _, v := range cc.Categories.Counts {
				if _, ok := known[v.Value]; !ok {
					newVals[v.Value] = v.Count
					bad += v.Count
				}
			}
			bad += cc.Categories.Other
			if bad > 0 {
				add(Finding{Check: "new_category", Column: rc.Name, Severity: profile.Warn, Value: float64(bad),
					Message: fmt.Sprintf("%s: %d values (%.2f%%) in categories unseen in the reference (%s)", rc.Name, bad, 100*float64(bad)/float64(max(1, cc.Count)), topKeys(newVals, 5))})
			}
		}
		if rc.Count > 0 && cc.Count == 0 {
			add(Finding{Check: "missing_share", Column: rc.Name, Severity: profile.Warn, Value: 1, Message: fmt.Sprintf("%s is missing in every row", rc.Name)})
		}
	}
	for _, name := range cur.Names() {
		if ref.Column(name) == nil {
			add(Finding{Check: "extra_column", Column: name, Severity: profile.Info, Message: fmt.Sprintf("column %s is not in the reference", name)})
		}
	}
	dr, err := driftFrame(ref, cur, curProf, opts.Drift)
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	rep.Drift = dr
	for _, cd := range dr.Columns {
		if cd.Drifted {
			add(Finding{Check: "drift", Column: cd.Column, Severity: profile.Error, Value: float64(cd.Statistic),
				Message: fmt.Sprintf("%s drifted: %s %s %.4g (threshold %g)", cd.Column, cd.Method, strings.ReplaceAll(cd.StatisticName, "_", "-"), float64(cd.Statistic), cd.Threshold)})
		}
	}
	if dr.DatasetDrift {
		add(Finding{Check: "dataset_drift", Severity: profile.Error, Value: dr.Share,
			Message: fmt.Sprintf("data set drift: %d of %d columns drifted (%.0f%% ≥ %.0f%%)", dr.Drifted, dr.Tested, 100*dr.Share, 100*dr.DriftShare)})
	} else {
		add(Finding{Check: "dataset_drift", Severity: profile.Info, Value: dr.Share,
			Message: fmt.Sprintf("%d of %d columns drifted (%.0f%%, data set drift at %.0f%%)", dr.Drifted, dr.Tested, 100*dr.Share, 100*dr.DriftShare)})
	}
	rep.Findings = append(rep.Findings, CorrelationShifts(ref, curProf, opts.CorrelationTolerance)...)
	rep.finish()
	return rep, nil
}

// CheckAgainstContract validates cur against a contract only.
func CheckAgainstContract(c *Contract, cur *frame.Frame) *Report {
	return CheckAgainstContractMasked(c, cur, nil)
}

// CheckAgainstContractMasked is CheckAgainstContract with the values of PII
// columns masked as CheckContractMasked masks them.
func CheckAgainstContractMasked(c *Contract, cur *frame.Frame, hash func(string) string) *Report {
	rep := &Report{Rows: cur.NumRows(), Findings: CheckContractMasked(c, cur, hash)}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	rep.finish()
	return rep
}

// CorrelationShifts compares the relationships of two profiles: Pearson
// correlations between numeric columns and each feature's association with
// the target, reporting changes larger than tol as warnings.
func CorrelationShifts(ref, cur *profile.Profile, tol float64) []Finding {
	var out []Finding
	if ref.Relations != nil && cur.Relations != nil {
		ci := map[string]int{}
		for i, n := range cur.Relations.Numeric {
			ci[n] = i
		}
		r := ref.Relations
		for i := range r.Numeric {
			for j := i + 1; j < len(r.Numeric); j++ {
				a, okA := ci[r.Numeric[i]]
				b, okB := ci[r.Numeric[j]]
				if !okA || !okB {
					continue
				}
				rv, cv := float64(r.Pearson[i][j]), float64(cur.Relations.Pearson[a][b])
				if math.IsNaN(rv) || math.IsNaN(cv) || math.Abs(rv-cv) <= tol {
					continue
				}
				out = append(out, Finding{Check: "correlation", Column: r.Numeric[i] + "," + r.Numeric[j], Severity: profile.Warn, Value: cv,
					Message: fmt.Sprintf("correlation of %s and %s moved from %.3f to %.3f", r.Numeric[i], r.Numeric[j], rv, cv)})
			}
		}
	}
	for i := range ref.Columns {
		rc := &ref.Columns[i]
		cc := cur.Column(rc.Name)
		if rc.Target == nil || cc == nil || cc.Target == nil || rc.Target.AssociationMethod != cc.Target.AssociationMethod {
			continue
		}
		rv, cv := float64(rc.Target.Association), float64(cc.Target.Association)
		if math.IsNaN(rv) || math.IsNaN(cv) || math.Abs(rv-cv) <= tol {
			continue
		}
		out = append(out, Finding{Check: "target_correlation", Column: rc.Name, Severity: profile.Warn, Value: cv,
			Message: fmt.Sprintf("association of %s with the target (%s) moved from %.3f to %.3f", rc.Name, rc.Target.AssociationMethod, rv, cv)})
	}
	return out
}

func (r *Report) finish() {
	rank := map[profile.Severity]int{profile.Error: 0, profile.Warn: 1, profile.Info: 2}
	sort.SliceStable(r.Findings, func(i, j int) bool { return rank[r.Findings[i].Severity] < rank[r.Findings[j].Severity] })
	r.recount()
}

// recount sets the severity counts and the verdict from the findings.
func (r *Report) recount() {
	r.Errors, r.Warnings = 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case profile.Error:
			r.Errors++
		case profile.Warn:
			r.Warnings++
		}
	}
	r.Passed = r.Errors == 0
}

// FailedColumns returns the columns named by error findings, sorted.
func (r *Report) FailedColumns() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range r.Findings {
		if f.Severity == profile.Error && f.Column != "" && !seen[f.Column] {
			seen[f.Column] = true
			out = append(out, f.Column)
		}
	}
	sort.Strings(out)
	return out
}

// WriteText writes the report as a plain-text summary and tables.
func (r *Report) WriteText(w io.Writer) error {
	status := "PASSED"
	if !r.Passed {
		status = "FAILED"
	}
	fmt.Fprintf(w, "validation %s: %d errors, %d warnings (%d rows", status, r.Errors, r.Warnings, r.Rows)
	if r.Source != "" {
		fmt.Fprintf(w, " of %s", r.Source)
	}
	if r.Reference != "" {
		fmt.Fprintf(w, " against %s", r.Reference)
	}
	fmt.Fprintln(w, ")")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if len(r.Findings) > 0 {
		fmt.Fprintln(tw, "\nSEVERITY\tCHECK\tCOLUMN\tMESSAGE")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Severity, f.Check, dash(f.Column), f.Message)
		}
	}
	if d := r.Drift; d != nil {
		fmt.Fprintln(tw, "\nCOLUMN\tMETHOD\tSTATISTIC\tTHRESHOLD\tDRIFT")
		for _, c := range d.Columns {
			if c.Skipped != "" {
				fmt.Fprintf(tw, "%s\t-\t-\t-\tskipped: %s\n", c.Column, c.Skipped)
				continue
			}
			mark := "no"
			if c.Drifted {
				mark = "YES"
			}
			fmt.Fprintf(tw, "%s\t%s\t%.4g\t%g\t%s\n", c.Column, c.Method, float64(c.Statistic), c.Threshold, mark)
		}
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// topKeys lists up to k keys of m by descending count.
func topKeys(m map[string]int, k int) string {
	if m == nil {
		return "values withheld: a PII column"
	}
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, key := range keys[:min(k, len(keys))] {
		parts = append(parts, fmt.Sprintf("%q×%d", key, m[key]))
	}
	if len(keys) > k {
		parts = append(parts, fmt.Sprintf("and %d more", len(keys)-k))
	}
	return strings.Join(parts, ", ")
}

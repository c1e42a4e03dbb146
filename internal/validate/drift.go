package validate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/profile"
)

// Method names a drift test.
type Method string

// Drift methods.
const (
	MethodAuto          Method = ""              // Evidently's default for the column
	MethodKS            Method = "ks"            // two-sample Kolmogorov–Smirnov, p-value
	MethodChiSquare     Method = "chisquare"     // chi-square homogeneity, p-value
	MethodZTest         Method = "ztest"         // two-proportion z-test, p-value
	MethodWasserstein   Method = "wasserstein"   // normed by reference std, distance
	MethodJensenShannon Method = "jensenshannon" // distance
	MethodPSI           Method = "psi"           // population stability index
)

// PValue reports whether the method's statistic is a p-value (drift when
// below the threshold) rather than a distance (drift when at or above it).
func (m Method) PValue() bool { return m == MethodKS || m == MethodChiSquare || m == MethodZTest }

// DefaultThreshold is Evidently's threshold for the method: 0.05 for
// p-values, 0.1 for distances and PSI.
func (m Method) DefaultThreshold() float64 {
	if m.PValue() {
		return 0.05
	}
	return 0.1
}

// ParseMethod parses a method name.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case MethodAuto, MethodKS, MethodChiSquare, MethodZTest, MethodWasserstein, MethodJensenShannon, MethodPSI:
		return m, nil
	}
	return "", fmt.Errorf("unknown drift method %q (want ks, chisquare, ztest, wasserstein, jensenshannon or psi)", s)
}

// SmallReference is the reference size up to which the statistical tests
// (KS, chi-square, z-test) are the default.
const SmallReference = 1000

// ProblemOptions overrides the drift test of one column.
type ProblemOptions struct {
	Method    Method  `json:"method,omitempty" yaml:"method,omitempty"`
	Threshold float64 `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// Skip excludes the column from drift tests.
	Skip bool `json:"skip,omitempty" yaml:"skip,omitempty"`
}

// DriftOptions configures Drift.
type DriftOptions struct {
	// Columns overrides methods and thresholds per column.
	Columns map[string]ProblemOptions
	// DriftShare is the share of drifted columns at which the data set
	// drifts (default 0.5).
	DriftShare float64
	// IncludeTarget tests the reference's target column too (default: skip
	// it, since labels usually arrive later).
	IncludeTarget bool
}

// ColumnDrift is the drift test result of one column.
type ColumnDrift struct {
	Column    string        `json:"column"`
	Kind      frame.Kind    `json:"kind"`
	Method    Method        `json:"method"`
	Statistic profile.Float `json:"statistic"`
	// StatisticName is "p_value" or "distance".
	StatisticName string  `json:"statistic_name"`
	Threshold     float64 `json:"threshold"`
	Drifted       bool    `json:"drifted"`
	// RefCount and CurCount are the non-missing values compared.
	RefCount int `json:"ref_count"`
	CurCount int `json:"cur_count"`
	// Skipped says why the column was not tested, if it was not.
	Skipped string `json:"skipped,omitempty"`
	// Ref and Cur are plot data: shares per Bins label.
	Bins []string  `json:"bins,omitempty"`
	Ref  []float64 `json:"ref,omitempty"`
	Cur  []float64 `json:"cur,omitempty"`
}

// DriftReport is the result of Drift.
type DriftReport struct {
	RefRows int           `json:"ref_rows"`
	CurRows int           `json:"cur_rows"`
	Columns []ColumnDrift `json:"columns"`
	// Tested and Drifted count the tested and the drifted columns.
	Tested  int `json:"tested"`
	Drifted int `json:"drifted"`
	// Share is Drifted / Tested.
	Share float64 `json:"share"`
	// DriftShare is the threshold on Share; DatasetDrift is Share ≥ DriftShare.
	DriftShare   float64 `json:"drift_share"`
	DatasetDrift bool    `json:"dataset_drift"`
	// MissingColumns are reference columns absent from the current data.
	MissingColumns []string `json:"missing_columns,omitempty"`
}

// ErrNoOverlap is returned when the current data shares no column with the
// reference.
var ErrNoOverlap = errors.New("no column in common with the reference")

// side is what one data set contributes to a column's test.
type side struct {
	count  int
	sorted []float64 // numeric: all values (exact) or a sample
	exact  bool      // sorted holds every value
	qf     QuantileFunc
	std    float64
	cats   map[string]int // categorical, or numeric binned by reference edges
}

// Drift tests each reference column for drift in the current frame. It
// profiles the current data once (no relationships) and uses exact values
// where a test needs them: sorted values for KS (small references) and
// exact bin counts over the reference histogram; the Wasserstein distance
// of large references uses the current column's quantile grid.
func Drift(ref *profile.Profile, cur *frame.Frame, opts DriftOptions) (*DriftReport, error) {
	if ref == nil || cur == nil {
		return nil, fmt.Errorf("drift: nil reference or current data")
	}
	cp, err := profile.Compute(context.Background(), cur, profile.Options{NoRelations: true})
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	return driftFrame(ref, cur, cp, opts)
}

// driftFrame is Drift with the current profile already computed.
func driftFrame(ref *profile.Profile, cur *frame.Frame, cp *profile.Profile, opts DriftOptions) (*DriftReport, error) {
	small := ref.Rows <= SmallReference
	return drift(ref, cur.NumRows(), opts, func(rc *profile.Column) (*side, bool) {
		c, err := cur.Column(rc.Name)
		if err != nil {
			return nil, false
		}
		cc := cp.Column(rc.Name)
		if rc.Numeric != nil {
			if cc.Numeric == nil && cc.Count > 0 {
				return nil, true // type changed: reported by the caller
			}
			s := &side{count: cc.Count}
			if cc.Numeric == nil {
				return s, true
			}
			vals, _ := profile.NumericValues(c)
			s.cats = binCounts(rc, vals)
			s.std = cc.Numeric.PopStd
			if small || cc.Numeric.QuantilesExact {
				slices.Sort(vals)
				s.sorted, s.exact = vals, true
				s.qf = func(p float64) float64 { return profile.QuantileSorted(vals, p) }
			} else {
				s.sorted, s.qf = cc.Numeric.Sample, cc.Numeric.Quantile
			}
			return s, true
		}
		s := &side{count: cc.Count}
		if cc.Categories != nil {
			s.cats = cc.Categories.Map()
		} else {
			// A numeric column where text was expected: compare as text.
			s.cats = map[string]int{}
			for i := 0; i < c.Len(); i++ {
				if !c.IsNull(i) {
					s.cats[c.Format(i)]++
				}
			}
		}
		return s, true
	})
}

// DriftProfiles tests each reference column for drift in the current
// profile. Numeric tests use the current profile's sample (exact when it
// holds every value) and quantile grid.
func DriftProfiles(ref, cur *profile.Profile, opts DriftOptions) (*DriftReport, error) {
	if ref == nil || cur == nil {
		return nil, fmt.Errorf("drift: nil reference or current profile")
	}
	return drift(ref, cur.Rows, opts, func(rc *profile.Column) (*side, bool) {
		cc := cur.Column(rc.Name)
		if cc == nil {
			return nil, false
		}
		return profileSide(rc, cc), true
	})
}

func profileSide(rc, cc *profile.Column) *side {
	s := &side{count: cc.Count}
	if n := cc.Numeric; n != nil && rc.Numeric != nil {
		s.sorted, s.exact, s.qf, s.std = n.Sample, n.SampleComplete, n.Quantile, n.PopStd
		s.cats = binCounts(rc, n.Sample)
		if !n.SampleComplete { // scale sample bins to the full count
			for k, v := range s.cats {
				s.cats[k] = int(math.Round(float64(v) * float64(cc.Count) / float64(len(n.Sample))))
			}
		}
		return s
	}
	if cc.Categories != nil {
		s.cats = cc.Categories.Map()
	}
	return s
}

// binCounts bins numeric values by the reference histogram; bin labels are
// the bin indices.
func binCounts(rc *profile.Column, vals []float64) map[string]int {
	if rc.Numeric == nil {
		return nil
	}
	h := &rc.Numeric.Histogram
	counts := make([]int, len(h.Counts))
	for _, v := range vals {
		counts[h.Bin(v)]++
	}
	m := make(map[string]int, len(counts))
	for i, k := range counts {
		if k > 0 {
			m[strconv.Itoa(i)] = k
		}
	}
	return m
}

// refSide builds the reference side from its profile column.
func refSide(rc *profile.Column) *side {
	s := &side{count: rc.Count}
	if n := rc.Numeric; n != nil {
		s.sorted, s.exact, s.qf, s.std = n.Sample, n.SampleComplete, n.Quantile, n.PopStd
		s.cats = map[string]int{}
		for i, k := range n.Histogram.Counts {
			if k > 0 {
				s.cats[strconv.Itoa(i)] = k
			}
		}
		return s
	}
	if rc.Categories != nil {
		s.cats = rc.Categories.Map()
	}
	return s
}

func drift(ref *profile.Profile, curRows int, opts DriftOptions, current func(*profile.Column) (*side, bool)) (*DriftReport, error) {
	if opts.DriftShare <= 0 {
		opts.DriftShare = 0.5
	}
	rep := &DriftReport{RefRows: ref.Rows, CurRows: curRows, DriftShare: opts.DriftShare, Columns: []ColumnDrift{}}
	overlap := 0
	for i := range ref.Columns {
		rc := &ref.Columns[i]
		co := opts.Columns[rc.Name]
		cur, found := current(rc)
		if !found {
			rep.MissingColumns = append(rep.MissingColumns, rc.Name)
			continue
		}
		overlap++
		cd := ColumnDrift{Column: rc.Name, Kind: rc.Kind, RefCount: rc.Count}
		switch {
		case co.Skip:
			cd.Skipped = "skipped by configuration"
		case rc.Name == ref.Target && !opts.IncludeTarget:
			cd.Skipped = "target column"
		case rc.LikelyID:
			cd.Skipped = "identifier-like column"
		case rc.Count == 0:
			cd.Skipped = "no values in the reference"
		case cur == nil:
			cd.Skipped = "column type changed"
		case cur.count == 0:
			cd.Skipped = "no values in the current data"
		}
		if cd.Skipped == "" {
			cd.CurCount = cur.count
			if err := testColumn(&cd, rc, refSide(rc), cur, ref.Rows, co); err != nil {
				return nil, fmt.Errorf("drift: column %q: %w", rc.Name, err)
			}
			rep.Tested++
			if cd.Drifted {
				rep.Drifted++
			}
		}
		rep.Columns = append(rep.Columns, cd)
	}
	if overlap == 0 {
		return nil, fmt.Errorf("drift: %w (reference columns: %v)", ErrNoOverlap, refNames(ref))
	}
	if rep.Tested > 0 {
		rep.Share = float64(rep.Drifted) / float64(rep.Tested)
	}
	rep.DatasetDrift = rep.Tested > 0 && rep.Share >= opts.DriftShare
	return rep, nil
}

func refNames(p *profile.Profile) []string {
	out := make([]string, len(p.Columns))
	for i := range p.Columns {
		out[i] = p.Columns[i].Name
	}
	return out
}

// defaultMethod chooses Evidently's default test.
func defaultMethod(rc *profile.Column, ref, cur *side, refRows int) Method {
	numeric := rc.Numeric != nil
	nvals := len(union(ref.cats, cur.cats))
	if numeric && rc.Distinct > 5 {
		nvals = rc.Distinct
	}
	if refRows <= SmallReference {
		switch {
		case numeric && nvals > 5:
			return MethodKS
		case nvals > 2:
			return MethodChiSquare
		default:
			return MethodZTest
		}
	}
	if numeric && nvals > 5 {
		return MethodWasserstein
	}
	return MethodJensenShannon
}

func union(a, b map[string]int) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]int{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

func testColumn(cd *ColumnDrift, rc *profile.Column, ref, cur *side, refRows int, co ProblemOptions) error {
	m := co.Method
	if m == MethodAuto {
		m = defaultMethod(rc, ref, cur, refRows)
	}
	if (m == MethodKS || m == MethodWasserstein) && rc.Numeric == nil {
		return fmt.Errorf("method %s needs a numeric column, %s is %s", m, rc.Name, rc.Kind)
	}
	cd.Method = m
	cd.Threshold = co.Threshold
	if cd.Threshold == 0 {
		cd.Threshold = m.DefaultThreshold()
	}
	keys := union(ref.cats, cur.cats)
	if rc.Numeric != nil {
		// Numeric bins in bin order.
		sort.Slice(keys, func(i, j int) bool { a, _ := strconv.Atoi(keys[i]); b, _ := strconv.Atoi(keys[j]); return a < b })
	}
	rv := make([]float64, len(keys))
	cv := make([]float64, len(keys))
	for i, k := range keys {
		rv[i], cv[i] = float64(ref.cats[k]), float64(cur.cats[k])
	}
	var stat float64
	switch m {
	case MethodKS:
		_, stat = KSTwoSample(ref.sorted, cur.sorted)
	case MethodChiSquare:
		_, _, stat = ChiSquare(rv, cv)
	case MethodZTest:
		if len(keys) < 2 {
			stat = 1
		} else {
			_, stat = ZTestProportions(rv[0], float64(ref.count), cv[0], float64(cur.count))
		}
	case MethodWasserstein:
		var w float64
		if ref.exact && cur.exact {
			w = WassersteinSamples(ref.sorted, cur.sorted)
		} else {
			w = WassersteinQuantiles(ref.qf, cur.qf)
		}
		std := ref.std
		switch {
		case std > 0:
			stat = w / std
		case w > 0:
			stat = math.Inf(1)
		}
	case MethodJensenShannon:
		stat = JensenShannon(rv, cv)
	case MethodPSI:
		stat = PSI(rv, cv)
	default:
		return fmt.Errorf("unknown method %q", m)
	}
	cd.Statistic = profile.Float(stat)
	if m.PValue() {
		cd.StatisticName = "p_value"
		cd.Drifted = stat < cd.Threshold // NaN never drifts
	} else {
		cd.StatisticName = "distance"
		cd.Drifted = stat >= cd.Threshold
	}
	// Plot data: shares per bin or category (top 30).
	labels := keys
	if rc.Numeric != nil {
		e := rc.Numeric.Histogram.Edges
		labels = make([]string, len(keys))
		for i, k := range keys {
			b, _ := strconv.Atoi(k)
			labels[i] = strconv.FormatFloat(e[b], 'g', 4, 64)
		}
	}
	rs, cs := normShares(rv), normShares(cv)
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	if rc.Numeric == nil {
		sort.SliceStable(idx, func(a, b int) bool { return rs[idx[a]]+cs[idx[a]] > rs[idx[b]]+cs[idx[b]] })
	}
	for _, i := range idx[:min(30, len(idx))] {
		cd.Bins = append(cd.Bins, labels[i])
		cd.Ref = append(cd.Ref, rs[i])
		cd.Cur = append(cd.Cur, cs[i])
	}
	return nil
}

func normShares(v []float64) []float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	out := make([]float64, len(v))
	if t > 0 {
		for i, x := range v {
			out[i] = x / t
		}
	}
	return out
}

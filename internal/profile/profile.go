package profile

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/gyre-ml/gyre/internal/frame"
)

// FormatVersion is the version of the Profile JSON layout. Readers accept
// profiles up to this version; fields are only ever added.
const FormatVersion = 1

// Defaults for Options.
const (
	// SampleSize bounds Numeric.Sample.
	SampleSize = 1000
	// MaxCategories bounds Categories.Counts; the rest is summed in Other.
	MaxCategories = 1000
	// DistinctExactLimit is the number of distinct numeric or text values
	// counted exactly before switching to HyperLogLog.
	DistinctExactLimit = 10000
	// RelationRows bounds the rows used for relationships (correlations,
	// mutual information, scatter samples).
	RelationRows = 50000
	// SketchRows bounds the values a numeric column's quantile sketch is
	// fed: a column with more gives it one value drawn at random from each
	// block of ⌈values/SketchRows⌉ values in row order (a seeded stratified
	// sample of SketchRows/2 to SketchRows values), so the sketch, the
	// costliest part of a profile, costs the same from 262,144 values up.
	// Counts, moments, the histogram, distinct counts and the reservoir
	// sample still see every value. The sample adds a rank error with a
	// standard deviation of at most √(q(1−q)/m) for m sampled values
	// (0.0014 for m = 131,072) to the sketch's KLLRankError.
	SketchRows = 1 << 18
	// HistogramBins is the default number of histogram bins.
	HistogramBins = 20
	// GridSize is the number of points of Numeric.QuantileGrid (p = 0,
	// 0.001, …, 1): fine enough that the Wasserstein distance computed from
	// it stays within 0.01 standard deviations of the exact value on real
	// data (the tails matter).
	GridSize = 1001
)

// QuantileLevels are the probabilities of Numeric.Quantiles, in order.
var QuantileLevels = []float64{0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99}

// Profile is the statistical summary of a frame. It is JSON-serialisable and
// holds no reference to the data.
type Profile struct {
	// Version is the FormatVersion the profile was written with.
	Version int `json:"version"`
	// Source names the data the profile was computed from, if known.
	Source string `json:"source,omitempty"`
	// Rows is the number of rows.
	Rows int `json:"rows"`
	// DuplicateRows counts rows identical to an earlier row (64-bit row hashes).
	DuplicateRows int `json:"duplicate_rows"`
	// Target is the target column's name, if one was given.
	Target string `json:"target,omitempty"`
	// Columns holds one summary per column, in frame order.
	Columns []Column `json:"columns"`
	// Relations holds pairwise relationships; nil when disabled.
	Relations *Relations `json:"relations,omitempty"`
	// TargetSummary describes the target; nil without a target.
	TargetSummary *TargetSummary `json:"target_summary,omitempty"`
	// Missing is the aggregated missing-value matrix.
	Missing *MissingMatrix `json:"missing_matrix,omitempty"`
	// Scatter holds sampled points for the most correlated numeric pairs.
	Scatter []ScatterSample `json:"scatter,omitempty"`
	// Warnings are the findings worth a data scientist's attention.
	Warnings []Warning `json:"warnings"`
}

// Column summarises one column.
type Column struct {
	Name string     `json:"name"`
	Kind frame.Kind `json:"kind"`
	// Count is the number of non-missing values.
	Count int `json:"count"`
	// Missing is the number of missing values (NaN counts as missing).
	Missing int `json:"missing"`
	// MissingShare is Missing / rows.
	MissingShare float64 `json:"missing_share"`
	// Distinct is the number of distinct non-missing values; exact unless
	// DistinctApprox.
	Distinct int `json:"distinct"`
	// DistinctApprox is set when Distinct is a HyperLogLog estimate.
	DistinctApprox bool `json:"distinct_approx,omitempty"`
	// Numeric is set for float, int and time columns with values.
	Numeric *Numeric `json:"numeric,omitempty"`
	// Categories is set for categorical, string and bool columns.
	Categories *Categories `json:"categories,omitempty"`
	// Constant: at most one distinct value.
	Constant bool `json:"constant,omitempty"`
	// NearConstant: the most frequent value covers ≥ 95% of the values.
	NearConstant bool `json:"near_constant,omitempty"`
	// LikelyID: unique per row and text or integer typed.
	LikelyID bool `json:"likely_id,omitempty"`
	// HighCardinality: a categorical with more than 50 distinct values that is
	// not an ID.
	HighCardinality bool `json:"high_cardinality,omitempty"`
	// Target relates the column to the target; nil without a target.
	Target *FeatureTarget `json:"target,omitempty"`
}

// IsNumeric reports whether the column is summarised as numbers.
func (c *Column) IsNumeric() bool { return c.Kind.Numeric() || c.Kind == frame.KindTime }

// Numeric summarises a numeric column's non-missing values.
type Numeric struct {
	Mean float64 `json:"mean"`
	// Std is the sample standard deviation (ddof = 1, like pandas).
	Std float64 `json:"std"`
	// PopStd is the population standard deviation (ddof = 0, like numpy).
	PopStd float64 `json:"pop_std"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// Skewness is the adjusted Fisher–Pearson coefficient (pandas' skew()).
	Skewness float64 `json:"skewness"`
	Zeros    int     `json:"zeros"`
	// Quantiles holds the QuantileLevels quantiles, in order.
	Quantiles []float64 `json:"quantiles"`
	// QuantilesExact reports whether Quantiles are exact (numpy's linear
	// method) rather than sketch estimates within KLLRankError.
	QuantilesExact bool `json:"quantiles_exact"`
	// QuantileGrid holds the quantiles at p = 0, 0.001, …, 1 (GridSize
	// values; the ends are the exact minimum and maximum).
	QuantileGrid []float64 `json:"quantile_grid"`
	// Histogram has fixed-width bins over [Min, Max].
	Histogram Histogram `json:"histogram"`
	// OutliersIQR counts values outside [Q1 − 1.5·IQR, Q3 + 1.5·IQR].
	OutliersIQR int `json:"outliers_iqr"`
	// OutliersZ counts values with |z| > 3.
	OutliersZ int `json:"outliers_z"`
	// Sample is every value (sorted) when Count ≤ SampleSize, otherwise a
	// seeded uniform sample of SampleSize values (sorted).
	Sample []float64 `json:"sample"`
	// SampleComplete reports whether Sample holds every value.
	SampleComplete bool `json:"sample_complete"`
}

// Quantile returns the quantile at probability p from QuantileGrid, linearly
// interpolated.
func (n *Numeric) Quantile(p float64) float64 {
	g := n.QuantileGrid
	if len(g) == 0 {
		return math.NaN()
	}
	pos := p * float64(len(g)-1)
	lo := int(math.Floor(pos))
	if lo >= len(g)-1 {
		return g[len(g)-1]
	}
	if lo < 0 {
		return g[0]
	}
	return g[lo] + (pos-float64(lo))*(g[lo+1]-g[lo])
}

// Histogram is a fixed-bin histogram: Counts[i] counts values in
// [Edges[i], Edges[i+1]) (the last bin includes its right edge).
type Histogram struct {
	Edges  []float64 `json:"edges"`
	Counts []int     `json:"counts"`
}

// Bin returns the bin index of x, clamping values outside the edges to the
// first or last bin.
func (h *Histogram) Bin(x float64) int {
	n := len(h.Counts)
	if n == 0 {
		return 0
	}
	lo, hi := h.Edges[0], h.Edges[n]
	if hi <= lo {
		return 0
	}
	b := int(float64(n) * (x - lo) / (hi - lo))
	if b < 0 {
		return 0
	}
	if b >= n {
		return n - 1
	}
	return b
}

// Categories summarises a categorical, text or bool column.
type Categories struct {
	// Counts lists categories by descending count (ties by value), at most
	// MaxCategories of them.
	Counts []CategoryCount `json:"counts"`
	// Other is the number of values in categories beyond Counts.
	Other int `json:"other,omitempty"`
	// Rare counts the categories with a share below 1%.
	Rare int `json:"rare"`
	// RareValues lists up to 20 of the rare categories.
	RareValues []string `json:"rare_values,omitempty"`
}

// Map returns the counts as a map from value to count.
func (c *Categories) Map() map[string]int {
	m := make(map[string]int, len(c.Counts))
	for _, cc := range c.Counts {
		m[cc.Value] = cc.Count
	}
	return m
}

// CategoryCount is one category and its count.
type CategoryCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Relations holds pairwise relationships over a row sample.
type Relations struct {
	// SampleRows is the number of rows used.
	SampleRows int `json:"sample_rows"`
	// Numeric names the numeric columns of Pearson and Spearman.
	Numeric []string `json:"numeric"`
	// Pearson and Spearman are symmetric matrices over Numeric (pairwise
	// complete observations; null when undefined).
	Pearson  [][]Float `json:"pearson"`
	Spearman [][]Float `json:"spearman"`
	// Categorical names the columns of CramersV.
	Categorical []string `json:"categorical"`
	// CramersV is the symmetric matrix of Cramér's V over Categorical.
	CramersV [][]Float `json:"cramers_v"`
	// CorrelationRatio[i][j] is η of Numeric[i] given Categorical[j].
	CorrelationRatio [][]Float `json:"correlation_ratio"`
}

// Float is a float64 that marshals NaN and ±Inf as JSON null.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// TargetSummary describes the target column.
type TargetSummary struct {
	Name string `json:"name"`
	// Classification is true for a categorical (or bool) target.
	Classification bool `json:"classification"`
	// Classes and ClassCounts give the class balance (classification).
	Classes     []string `json:"classes,omitempty"`
	ClassCounts []int    `json:"class_counts,omitempty"`
	// Histogram is the target distribution (regression).
	Histogram *Histogram `json:"histogram,omitempty"`
}

// FeatureTarget relates one feature to the target.
type FeatureTarget struct {
	// MutualInformation in nats (numeric features and regression targets
	// discretised into quantile bins).
	MutualInformation float64 `json:"mutual_information"`
	// Association is |Pearson| (numeric–numeric), Cramér's V (categorical–
	// categorical) or the correlation ratio η (mixed).
	Association Float `json:"association"`
	// AssociationMethod names the Association statistic.
	AssociationMethod string `json:"association_method"`
	// Groups are the feature's bins (numeric) or top categories.
	Groups []string `json:"groups"`
	// ClassCounts[g][k] counts class k within group g (classification).
	ClassCounts [][]int `json:"class_counts,omitempty"`
	// Mean[g] is the mean target within group g (regression).
	Mean []Float `json:"mean,omitempty"`
}

// MissingMatrix is the missing share per column per row chunk.
type MissingMatrix struct {
	// ChunkRows is the number of rows per chunk (the last may be shorter).
	ChunkRows int `json:"chunk_rows"`
	// Share[c][k] is the missing share of column c in chunk k.
	Share [][]float64 `json:"share"`
}

// ScatterSample is a sample of points of a numeric pair.
type ScatterSample struct {
	X       string       `json:"x"`
	Y       string       `json:"y"`
	Pearson float64      `json:"pearson"`
	Points  [][2]float64 `json:"points"`
}

// Severity grades a warning or finding.
type Severity string

// Severities, in increasing order.
const (
	Info  Severity = "info"
	Warn  Severity = "warning"
	Error Severity = "error"
)

// Warning is one flagged fact about the data.
type Warning struct {
	// Kind is a stable identifier: missing, all_missing, skew, constant,
	// near_constant, id_like, high_cardinality, imbalance, leakage,
	// duplicates, zeros.
	Kind     string   `json:"kind"`
	Column   string   `json:"column,omitempty"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// Column returns the summary of the named column, or nil.
func (p *Profile) Column(name string) *Column {
	for i := range p.Columns {
		if p.Columns[i].Name == name {
			return &p.Columns[i]
		}
	}
	return nil
}

// Write writes the profile as indented JSON.
func (p *Profile) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("profile: write: %w", err)
	}
	return nil
}

// Read decodes a profile written by Write, rejecting newer format versions.
func Read(r io.Reader) (*Profile, error) {
	var p Profile
	dec := json.NewDecoder(r)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("profile: read: %w", err)
	}
	if p.Version < 1 || p.Version > FormatVersion {
		return nil, fmt.Errorf("profile: read: format version %d, want 1..%d (is this a Gyre profile?)", p.Version, FormatVersion)
	}
	return &p, nil
}

// Load reads a profile from a JSON file.
func Load(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("profile: load: %w", err)
	}
	defer f.Close()
	p, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return p, nil
}

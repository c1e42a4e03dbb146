package feature

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/parallel"
)

func init() {
	Register(Registration{Type: "pca", Summary: "project numeric columns onto their principal components (gonum SVD)",
		NewStep: func() Step { return &PCA{} }, NewFitted: func() Fitted { return &PCAFitted{} }})
	Register(Registration{Type: "drop", Summary: "drop the listed columns (missing ones are ignored at serving)",
		NewStep: func() Step { return &Drop{} }, NewFitted: func() Fitted { return &Selected{} }})
	Register(Registration{Type: "variance_threshold", Summary: "drop numeric columns whose training variance is at most a threshold",
		NewStep: func() Step { return &VarianceThreshold{} }, NewFitted: func() Fitted { return &Selected{} }})
	Register(Registration{Type: "mutual_info", Summary: "keep the k feature columns with the highest mutual information with the target",
		NewStep: func() Step { return &MutualInfo{K: 10} }, NewFitted: func() Fitted { return &Selected{} }})
	Register(Registration{Type: "importance", Summary: "keep the k columns a model ranks most important (programmatic use: needs an importance function)",
		NewStep: func() Step { return &Importance{K: 10} }, NewFitted: func() Fitted { return &Selected{} }})
}

// Selected is the fitted form of every selection step: the columns to drop.
type Selected struct {
	Kind string `json:"kind"`
	// Drop lists the removed feature columns.
	Drop []string `json:"drop"`
	// Scores holds each considered column's score, for reports.
	Scores map[string]Num `json:"scores,omitempty"`
}

// Type implements Fitted.
func (s *Selected) Type() string { return s.Kind }

// Transform implements Fitted: the dropped columns are removed when present.
func (s *Selected) Transform(f *frame.Frame) (*frame.Frame, error) {
	var drop []string
	for _, n := range s.Drop {
		if f.Index(n) >= 0 {
			drop = append(drop, n)
		}
	}
	return f.Drop(drop...)
}

// VarianceThreshold drops numeric and bool feature columns whose training
// variance (missing values ignored) is at most Threshold (default 0:
// constant columns).
type VarianceThreshold struct {
	Columns   []string `json:"columns,omitempty" yaml:"columns"`
	Threshold float64  `json:"threshold,omitempty" yaml:"threshold"`
}

// Type implements Step.
func (s *VarianceThreshold) Type() string { return "variance_threshold" }

// Fit implements Step.
func (s *VarianceThreshold) Fit(f *frame.Frame, _ string) (Fitted, error) {
	names, err := resolve(f, s.Columns, func(k frame.Kind) bool { return numericKinds(k) || k == frame.KindBool }, "a number")
	if err != nil {
		return nil, fmt.Errorf("variance_threshold: %w", err)
	}
	out := &Selected{Kind: s.Type(), Drop: []string{}, Scores: map[string]Num{}}
	for _, n := range names {
		c, _ := f.Column(n)
		v, _ := floats(c)
		_, sd := meanStd(v)
		variance := sd * sd
		if variance != variance {
			variance = 0
		}
		out.Scores[n] = Num(variance)
		if variance <= s.Threshold {
			out.Drop = append(out.Drop, n)
		}
	}
	return out, nil
}

// MutualInfo keeps the K feature columns with the highest mutual information
// (in nats) with the target; numbers (and a regression target) are
// discretised into 16 quantile bins, text by category, missing as its own
// value. Ties keep the earlier column.
type MutualInfo struct {
	Columns []string `json:"columns,omitempty" yaml:"columns"`
	K       int      `json:"k" yaml:"k"`
}

// Type implements Step.
func (s *MutualInfo) Type() string { return "mutual_info" }

// discrete maps a column to small integer codes for mutual information.
func discrete(c frame.Column) []int {
	if textKinds(c.Kind()) {
		codes, _ := levelCodes(c)
		out := make([]int, len(codes))
		for i, k := range codes {
			out[i] = int(k) + 1
		}
		return out
	}
	v, _ := floats(c)
	qs := make([]float64, 15)
	for k := range qs {
		qs[k] = float64(k+1) / 16
	}
	edges := quantiles(v, qs...)
	out := make([]int, len(v))
	for i, x := range v {
		if x != x {
			continue
		}
		out[i] = 1 + sort.SearchFloat64s(edges, x)
	}
	return out
}

func mutualInfo(a, b []int) float64 {
	n := float64(len(a))
	joint := map[[2]int]float64{}
	pa, pb := map[int]float64{}, map[int]float64{}
	for i := range a {
		joint[[2]int{a[i], b[i]}]++
		pa[a[i]]++
		pb[b[i]]++
	}
	mi := 0.0
	for k, c := range joint {
		mi += c / n * math.Log(c*n/(pa[k[0]]*pb[k[1]]))
	}
	return mi
}

// Fit implements Step.
func (s *MutualInfo) Fit(f *frame.Frame, target string) (Fitted, error) {
	if target == "" {
		return nil, fmt.Errorf("mutual_info: needs a target column (set target in the recipe)")
	}
	tc, err := f.Column(target)
	if err != nil {
		return nil, fmt.Errorf("mutual_info: target: %w", err)
	}
	names, err := resolve(f, s.Columns, func(k frame.Kind) bool { return k != frame.KindTime }, "not a time")
	if err != nil {
		return nil, fmt.Errorf("mutual_info: %w", err)
	}
	y := discrete(tc)
	scores := make([]float64, len(names))
	parallel.For(len(names), 0, func(j int) {
		c, _ := f.Column(names[j])
		scores[j] = mutualInfo(discrete(c), y)
	})
	return keepTop(s.Type(), names, scores, s.K), nil
}

func keepTop(kind string, names []string, scores []float64, k int) *Selected {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	out := &Selected{Kind: kind, Drop: []string{}, Scores: map[string]Num{}}
	for rank, j := range order {
		out.Scores[names[j]] = Num(scores[j])
		if k > 0 && rank >= k {
			out.Drop = append(out.Drop, names[j])
		}
	}
	sort.Strings(out.Drop)
	return out
}

// ImportanceFunc scores columns of a design matrix against a target (e.g.
// by fitting a model and reading its importances); one score per column.
type ImportanceFunc func(X *frame.Matrix, y []float64) ([]float64, error)

// Importance keeps the K feature columns that Score ranks highest. The
// target is encoded as EncodeTarget does (classification for text and bool
// targets) and features as the Encoder does. Score is supplied in code (the
// learn layer provides model-based scores), so this step cannot come from a
// recipe file alone.
type Importance struct {
	Columns []string       `json:"columns,omitempty" yaml:"columns"`
	K       int            `json:"k" yaml:"k"`
	Score   ImportanceFunc `json:"-" yaml:"-"`
}

// Type implements Step.
func (s *Importance) Type() string { return "importance" }

// Fit implements Step.
func (s *Importance) Fit(f *frame.Frame, target string) (Fitted, error) {
	if s.Score == nil {
		return nil, fmt.Errorf("importance: no scoring function set (this step is for programmatic use)")
	}
	if target == "" {
		return nil, fmt.Errorf("importance: needs a target column")
	}
	tc, err := f.Column(target)
	if err != nil {
		return nil, fmt.Errorf("importance: target: %w", err)
	}
	y, _, err := EncodeTarget(f, target, textKinds(tc.Kind()) || tc.Kind() == frame.KindBool)
	if err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	names, err := resolve(f, s.Columns, anyKind, "")
	if err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	enc, err := FitEncoder(f, names)
	if err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	X, err := enc.Transform(f)
	if err != nil {
		return nil, fmt.Errorf("importance: %w", err)
	}
	scores, err := s.Score(X, y)
	if err != nil {
		return nil, fmt.Errorf("importance: score: %w", err)
	}
	if len(scores) != len(names) {
		return nil, fmt.Errorf("importance: score returned %d values for %d columns", len(scores), len(names))
	}
	return keepTop(s.Type(), names, scores, s.K), nil
}

// PCA replaces numeric columns by their projections on the principal
// components "pc1".."pcK" (centred, not whitened). K is Components when set,
// otherwise the fewest components explaining Variance of the variance
// (default 0.95). Missing values are replaced by the training mean before
// projecting. Computed by gonum's SVD of the centred training matrix.
type PCA struct {
	Columns    []string `json:"columns,omitempty" yaml:"columns"`
	Components int      `json:"components,omitempty" yaml:"components"`
	Variance   float64  `json:"variance,omitempty" yaml:"variance"`
}

// Type implements Step.
func (s *PCA) Type() string { return "pca" }

// PCAFitted is a fitted PCA.
type PCAFitted struct {
	Columns []string `json:"columns"`
	Mean    []Num    `json:"mean"`
	// Components holds K rows of len(Columns) loadings.
	Components [][]Num `json:"components"`
	// Explained is each component's fraction of the variance.
	Explained []Num `json:"explained"`
}

// Type implements Fitted.
func (s *PCAFitted) Type() string { return "pca" }

// Fit implements Step.
func (s *PCA) Fit(f *frame.Frame, _ string) (Fitted, error) {
	names, err := resolve(f, s.Columns, func(k frame.Kind) bool { return numericKinds(k) || k == frame.KindBool }, "a number")
	if err != nil {
		return nil, fmt.Errorf("pca: %w", err)
	}
	n, p := f.NumRows(), len(names)
	if n < 2 || p == 0 {
		return nil, fmt.Errorf("pca: need at least 2 rows and 1 numeric column (have %d × %d)", n, p)
	}
	if s.Components > p {
		return nil, fmt.Errorf("pca: %d components requested from %d columns", s.Components, p)
	}
	out := &PCAFitted{Columns: names}
	data := make([]float64, n*p)
	for j, name := range names {
		c, _ := f.Column(name)
		v, _ := floats(c)
		m, _ := meanStd(v)
		if m != m {
			m = 0
		}
		out.Mean = append(out.Mean, Num(m))
		for i, x := range v {
			if x != x {
				x = m
			}
			data[i*p+j] = x - m
		}
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(n, p, data), mat.SVDThinV) {
		return nil, fmt.Errorf("pca: SVD did not converge")
	}
	sv := svd.Values(nil)
	var v mat.Dense
	svd.VTo(&v)
	total := 0.0
	for _, x := range sv {
		total += x * x
	}
	k := s.Components
	if k == 0 {
		target := s.Variance
		if target == 0 {
			target = 0.95
		}
		acc := 0.0
		for k < len(sv) {
			acc += sv[k] * sv[k]
			k++
			if total == 0 || acc/total >= target-1e-12 {
				break
			}
		}
	}
	for c := 0; c < k; c++ {
		row := make([]Num, p)
		// Fix the sign: the largest loading is positive, for stable output.
		big := 0
		for j := 0; j < p; j++ {
			if math.Abs(v.At(j, c)) > math.Abs(v.At(big, c)) {
				big = j
			}
		}
		sign := 1.0
		if v.At(big, c) < 0 {
			sign = -1
		}
		for j := 0; j < p; j++ {
			row[j] = Num(sign * v.At(j, c))
		}
		out.Components = append(out.Components, row)
		e := 0.0
		if total > 0 {
			e = sv[c] * sv[c] / total
		}
		out.Explained = append(out.Explained, Num(e))
	}
	return out, nil
}

// Transform implements Fitted.
func (s *PCAFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	n := f.NumRows()
	vals := make([][]float64, len(s.Columns))
	for j, name := range s.Columns {
		c, err := need(f, name)
		if err != nil {
			return nil, fmt.Errorf("pca: %w", err)
		}
		if vals[j], err = floats(c); err != nil {
			return nil, fmt.Errorf("pca: %w: %w", err, ErrSchema)
		}
	}
	pcs := make([]frame.Column, len(s.Components))
	for c, row := range s.Components {
		out := make([]float64, n)
		for j, v := range vals {
			w, m := float64(row[j]), float64(s.Mean[j])
			for i, x := range v {
				if x == x {
					out[i] += w * (x - m)
				}
			}
		}
		pcs[c] = frame.NewFloat(fmt.Sprintf("pc%d", c+1), out)
	}
	g, err := f.Drop(s.Columns...)
	if err != nil {
		return nil, fmt.Errorf("pca: %w", err)
	}
	return appendCols(g, pcs)
}

// Drop removes the listed columns.
type Drop struct {
	Columns []string `json:"columns" yaml:"columns"`
}

// Type implements Step.
func (s *Drop) Type() string { return "drop" }

// Fit implements Step: the columns must exist in training.
func (s *Drop) Fit(f *frame.Frame, _ string) (Fitted, error) {
	for _, n := range s.Columns {
		if _, err := f.Column(n); err != nil {
			return nil, fmt.Errorf("drop: %w", err)
		}
	}
	return &Selected{Kind: s.Type(), Drop: append([]string{}, s.Columns...)}, nil
}

package forest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/tree"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// Forest is the random forest or extra trees learner. Use NewRandomForest or
// NewExtraTrees for the defaults; copying the struct clones it.
type Forest struct {
	NEstimators         int     `param:"n_estimators" help:"number of trees (≥ 1)"`
	Criterion           string  `param:"criterion" help:"split quality: auto (gini / squared_error), gini, entropy, squared_error"`
	MaxDepth            int     `param:"max_depth" help:"maximum tree depth, 0 for unlimited"`
	MinSamplesSplit     int     `param:"min_samples_split" help:"least rows a node needs to be split (≥ 2)"`
	MinSamplesLeaf      int     `param:"min_samples_leaf" help:"least rows in each leaf (≥ 1)"`
	MaxFeatures         string  `param:"max_features" help:"features tried per split: auto (sqrt for classification, all for regression), sqrt, log2, all, an integer count or a fraction such as 0.5"`
	MinImpurityDecrease float64 `param:"min_impurity_decrease" help:"least weighted impurity decrease a split must bring (≥ 0)"`
	Bootstrap           bool    `param:"bootstrap" help:"grow each tree on a bootstrap sample"`
	MaxSamples          float64 `param:"max_samples" help:"bootstrap sample size: 0 for all rows, a fraction in (0, 1], or a row count > 1"`
	ClassWeight         string  `param:"class_weight" help:"none, balanced, or balanced_subsample (balanced on each bootstrap sample)"`
	OOBScore            bool    `param:"oob_score" help:"compute the out-of-bag score (accuracy or R²); needs bootstrap"`
	MaxBins             int     `param:"max_bins" help:"0 for exact thresholds, or 2..65536: numeric features with more distinct values are split between quantile bins (faster on large data)"`
	NJobs               int     `param:"n_jobs" help:"trees grown at once, 0 for all cores"`
	Seed                uint64  `param:"seed" help:"random seed"`

	extra bool
}

// NewRandomForest returns a random forest learner with scikit-learn's
// defaults (100 trees, bootstrap, sqrt features for classification).
func NewRandomForest() *Forest {
	return &Forest{NEstimators: 100, Criterion: "auto", MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "auto", Bootstrap: true, ClassWeight: "none"}
}

// NewExtraTrees returns an extra trees learner with scikit-learn's defaults
// (100 trees, no bootstrap, random thresholds).
func NewExtraTrees() *Forest {
	f := NewRandomForest()
	f.Bootstrap = false
	f.extra = true
	return f
}

// Name implements learn.Learner.
func (l *Forest) Name() string {
	if l.extra {
		return "extra_trees"
	}
	return "random_forest"
}

func (l *Forest) check(d *learn.Dataset) (tree.Config, error) {
	var cfg tree.Config
	if !d.Task.Classification() && d.Task != learn.Regression {
		return cfg, fmt.Errorf("task %s is not supported (valid: binary, multiclass, regression)", d.Task)
	}
	if l.NEstimators < 1 {
		return cfg, fmt.Errorf("n_estimators is %d, want ≥ 1", l.NEstimators)
	}
	if l.NJobs < 0 {
		return cfg, fmt.Errorf("n_jobs is %d, want ≥ 0 (0: all cores)", l.NJobs)
	}
	if !(l.MaxSamples >= 0) || math.IsInf(l.MaxSamples, 0) || (l.MaxSamples > 1 && l.MaxSamples != math.Trunc(l.MaxSamples)) {
		return cfg, fmt.Errorf("max_samples is %v, want 0, a fraction in (0, 1] or a whole row count", l.MaxSamples)
	}
	if l.OOBScore && !l.Bootstrap {
		return cfg, errors.New("oob_score needs bootstrap=true")
	}
	if l.MaxSamples != 0 && !l.Bootstrap {
		return cfg, errors.New("max_samples needs bootstrap=true")
	}
	crit, err := tree.ParseCriterion(l.Criterion, d.Task)
	if err != nil {
		return cfg, err
	}
	if err := tree.CheckCommon(l.MaxDepth, l.MinSamplesSplit, l.MinSamplesLeaf, l.MinImpurityDecrease, 0); err != nil {
		return cfg, err
	}
	mf, err := tree.ParseMaxFeatures(l.MaxFeatures, d.X.Cols, d.Task)
	if err != nil {
		return cfg, err
	}
	switch l.ClassWeight {
	case "", "none", "balanced", "balanced_subsample":
	default:
		return cfg, fmt.Errorf("class_weight %q is not valid (valid: none, balanced, balanced_subsample)", l.ClassWeight)
	}
	if !d.Task.Classification() && l.ClassWeight != "" && l.ClassWeight != "none" {
		return cfg, fmt.Errorf("class_weight %q needs a classification task", l.ClassWeight)
	}
	return tree.Config{Criterion: crit, MaxDepth: l.MaxDepth, MinSamplesSplit: l.MinSamplesSplit, MinSamplesLeaf: l.MinSamplesLeaf,
		MaxFeatures: mf, MinImpurityDecrease: l.MinImpurityDecrease, Random: l.extra}, nil
}

// treeSeed derives the generator stream of tree i.
func treeSeed(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15*uint64(i+1)))
}

// Fit implements learn.Learner.
func (l *Forest) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	name := l.Name()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fit %s: %w", name, err)
	}
	if d == nil || d.X == nil {
		return nil, fmt.Errorf("fit %s: no data", name)
	}
	cfg, err := l.check(d)
	if err != nil {
		return nil, fmt.Errorf("fit %s: %w", name, err)
	}
	td, err := tree.PrepareBinned(ctx, d, l.MaxBins)
	if err != nil {
		return nil, fmt.Errorf("fit %s: %w", name, err)
	}
	n := td.N
	base := append([]float64(nil), td.W...)
	if td.Class != nil && l.ClassWeight == "balanced" {
		cw, _ := tree.ClassWeights("balanced", td, nil)
		for i, c := range td.Class {
			base[i] *= cw[c]
		}
	}
	nSamp := n
	switch {
	case l.MaxSamples > 1:
		nSamp = int(l.MaxSamples)
		if nSamp > n {
			return nil, fmt.Errorf("fit %s: max_samples is %d, more than the %d rows", name, nSamp, n)
		}
	case l.MaxSamples > 0:
		nSamp = max(1, int(math.Round(l.MaxSamples*float64(n))))
	}

	nt := l.NEstimators
	trees := make([]*tree.Tree, nt)
	imps := make([][]float64, nt)
	var inbag [][]bool
	if l.OOBScore {
		inbag = make([][]bool, nt)
	}
	// A failed tree (or a cancelled context) stops the others from starting;
	// the error of the lowest failing tree is reported.
	errs := make([]error, nt)
	var failed atomic.Bool
	parallel.ForWorker(nt, l.NJobs, func() func(int) {
		w := make([]float64, n)
		counts := make([]float64, n)
		gr := tree.NewGrower(td)
		return func(i int) {
			if failed.Load() {
				return
			}
			if err := ctx.Err(); err != nil {
				errs[i] = err
				failed.Store(true)
				return
			}
			rng := treeSeed(l.Seed, i)
			if l.Bootstrap {
				clear(counts)
				for s := 0; s < nSamp; s++ {
					counts[rng.IntN(n)]++
				}
				cw := []float64(nil)
				if td.Class != nil && l.ClassWeight == "balanced_subsample" {
					cw, _ = tree.ClassWeights("balanced", td, counts)
				}
				for r := range w {
					w[r] = counts[r] * base[r]
					if cw != nil {
						w[r] *= cw[td.Class[r]]
					}
				}
				if inbag != nil {
					ib := make([]bool, n)
					for r, c := range counts {
						ib[r] = c > 0
					}
					inbag[i] = ib
				}
			} else {
				copy(w, base)
			}
			imp := make([]float64, td.P)
			t, err := gr.Grow(ctx, cfg, w, rng, imp)
			if err != nil {
				errs[i] = err
				failed.Store(true)
				return
			}
			tree.Normalise(imp)
			trees[i], imps[i] = t, imp
		}
	})
	firstErr := ctx.Err()
	for _, err := range errs {
		if err != nil {
			firstErr = err
			break
		}
	}
	if firstErr != nil {
		return nil, fmt.Errorf("fit %s: %w", name, firstErr)
	}
	imp := make([]float64, td.P)
	for _, ti := range imps {
		for f, v := range ti {
			imp[f] += v
		}
	}
	tree.Normalise(imp)
	m := &Model{kind: name, Ensemble: tree.Ensemble{Task: d.Task, K: td.K, P: td.P, Trees: trees, Importances: imp}, OOBScore: math.NaN()}
	if l.OOBScore {
		m.OOBScore, m.OOBMetric = oobScore(ctx, m, d, td, inbag)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fit %s: %w", name, err)
		}
	}
	return wrap(m), nil
}

// oobScore predicts each training row with the trees that did not see it.
func oobScore(ctx context.Context, m *Model, d *learn.Dataset, td *tree.Data, inbag [][]bool) (float64, string) {
	n, p, k := td.N, td.P, m.NOut()
	sum := make([]float64, n*k)
	seen := make([]int, n)
	parallel.Blocks(n, 0, 1, func(lo, hi int) {
		row := make([]float64, p)
		for i := lo; i < hi; i++ {
			if i&1023 == 0 && ctx.Err() != nil {
				return
			}
			r := d.Row(i)
			for j := 0; j < p; j++ {
				row[j] = d.X.At(r, j)
			}
			s := sum[i*k : (i+1)*k]
			for t, tr := range m.Trees {
				if inbag[t][i] {
					continue
				}
				seen[i]++
				for c, v := range tr.Leaf(row) {
					s[c] += v
				}
			}
		}
	})
	if td.Class != nil {
		ok, cnt := 0.0, 0.0
		for i := 0; i < n; i++ {
			if seen[i] == 0 {
				continue
			}
			cnt++
			if learn.ArgMax(sum[i*k:(i+1)*k], k)[0] == td.Y[i] {
				ok++
			}
		}
		if cnt == 0 {
			return math.NaN(), "accuracy"
		}
		return ok / cnt, "accuracy"
	}
	var ys, ps []float64
	for i := 0; i < n; i++ {
		if seen[i] > 0 {
			ys = append(ys, td.Y[i])
			ps = append(ps, sum[i]/float64(seen[i]))
		}
	}
	return r2(ys, ps), "r2"
}

func r2(y, p []float64) float64 {
	if len(y) == 0 {
		return math.NaN()
	}
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	ss, se := 0.0, 0.0
	for i := range y {
		ss += (y[i] - mean) * (y[i] - mean)
		se += (y[i] - p[i]) * (y[i] - p[i])
	}
	if ss == 0 {
		return math.NaN()
	}
	return 1 - se/ss
}

// Model is a fitted forest. Classification models are returned as
// *Classifier, which adds class probabilities.
type Model struct {
	kind string
	tree.Ensemble
	// OOBScore is the out-of-bag score (NaN unless oob_score was set) and
	// OOBMetric its name: "accuracy" or "r2".
	OOBScore  float64
	OOBMetric string
}

// Classifier is a fitted classification forest.
type Classifier struct {
	*Model
}

// PredictProba implements learn.Prober: the mean of the trees' leaf class
// distributions.
func (c Classifier) PredictProba(X *frame.Matrix) ([]float64, error) { return c.Proba(X) }

func wrap(m *Model) learn.Model {
	if m.Task.Classification() {
		return Classifier{m}
	}
	return m
}

// Fitted returns the forest model inside m (a *Model or Classifier), or nil.
func Fitted(m learn.Model) *Model {
	switch v := m.(type) {
	case *Model:
		return v
	case Classifier:
		return v.Model
	}
	return nil
}

// Kind implements learn.Model: "random_forest" or "extra_trees".
func (m *Model) Kind() string { return m.kind }

// modelVersion is the format byte MarshalBinary writes: the tree ensemble
// format (tree.EnsembleFormat); Decode reads every format up to it.
const modelVersion = tree.EnsembleFormat

// MarshalBinary implements encoding.BinaryMarshaler.
func (m *Model) MarshalBinary() ([]byte, error) {
	w := tree.Encoder{B: []byte{modelVersion}}
	w.Float(m.OOBScore)
	w.String(m.OOBMetric)
	return m.AppendBinary(w.B), nil
}

// Decode rebuilds a forest model of the given kind from MarshalBinary output.
func Decode(kind string, data []byte) (learn.Model, error) {
	if len(data) == 0 || data[0] < 1 || data[0] > modelVersion {
		return nil, fmt.Errorf("unknown %s format version (a newer Gyre wrote it?)", kind)
	}
	format := int(data[0])
	r := &tree.Decoder{B: data[1:]}
	m := &Model{kind: kind, OOBScore: r.Float(), OOBMetric: r.String()}
	if r.Err != nil {
		return nil, r.Err
	}
	e, err := tree.DecodeEnsemble(r, format)
	if err != nil {
		return nil, err
	}
	if len(e.Trees) == 0 {
		return nil, errors.New("forest has no trees")
	}
	m.Ensemble = *e
	return wrap(m), nil
}

func init() {
	tasks := []learn.Task{learn.Binary, learn.Multiclass, learn.Regression}
	learn.Register(learn.Spec{
		Name:    "random_forest",
		Summary: "random forest: bagged CART trees with random feature subsets (OOB score, impurity importance, class weights)",
		Tasks:   tasks, New: func() learn.Learner { return NewRandomForest() }, Decode: Decode, Kinds: []string{"random_forest"},
	})
	learn.Register(learn.Spec{
		Name:    "extra_trees",
		Summary: "extremely randomised trees: random thresholds, no bootstrap by default",
		Tasks:   tasks, New: func() learn.Learner { return NewExtraTrees() }, Decode: Decode, Kinds: []string{"extra_trees"},
	})
}

var (
	_ learn.Learner     = (*Forest)(nil)
	_ learn.Model       = (*Model)(nil)
	_ learn.Prober      = Classifier{}
	_ learn.Importancer = (*Model)(nil)
)

package tree

import (
	"context"
	"errors"
	"fmt"
	"github.com/gyre-ml/gyre/internal/frame"
	"math/rand/v2"

	"github.com/gyre-ml/gyre/internal/learn"
)

// DecisionTree is the CART learner ("decision_tree") for classification and
// regression. The zero value is not ready: use New for the defaults.
type DecisionTree struct {
	Criterion           string  `param:"criterion" help:"split quality: auto (gini / squared_error), gini, entropy, squared_error"`
	MaxDepth            int     `param:"max_depth" help:"maximum depth, 0 for unlimited"`
	MinSamplesSplit     int     `param:"min_samples_split" help:"least rows a node needs to be split (≥ 2)"`
	MinSamplesLeaf      int     `param:"min_samples_leaf" help:"least rows in each leaf (≥ 1)"`
	MaxFeatures         string  `param:"max_features" help:"features tried per split: all, sqrt, log2, an integer count or a fraction such as 0.5"`
	MinImpurityDecrease float64 `param:"min_impurity_decrease" help:"least weighted impurity decrease a split must bring (≥ 0)"`
	CCPAlpha            float64 `param:"ccp_alpha" help:"minimal cost-complexity pruning strength (≥ 0, 0: no pruning)"`
	ClassWeight         string  `param:"class_weight" help:"none or balanced (weights inversely proportional to class frequencies)"`
	MaxBins             int     `param:"max_bins" help:"0 for exact thresholds, or 2..65536: numeric features with more distinct values are split between quantile bins (faster on large data)"`
	Seed                uint64  `param:"seed" help:"random seed (feature order and tie breaks)"`
}

// New returns a decision tree learner with scikit-learn's defaults.
func New() *DecisionTree {
	return &DecisionTree{Criterion: "auto", MinSamplesSplit: 2, MinSamplesLeaf: 1, MaxFeatures: "all", ClassWeight: "none"}
}

// Name implements learn.Learner.
func (*DecisionTree) Name() string { return "decision_tree" }

// Fit implements learn.Learner.
func (l *DecisionTree) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fit decision_tree: %w", err)
	}
	if d == nil || d.X == nil {
		return nil, errors.New("fit decision_tree: no data")
	}
	if !d.Task.Classification() && d.Task != learn.Regression {
		return nil, fmt.Errorf("fit decision_tree: task %s is not supported (valid: binary, multiclass, regression)", d.Task)
	}
	crit, err := ParseCriterion(l.Criterion, d.Task)
	if err == nil {
		err = CheckCommon(l.MaxDepth, l.MinSamplesSplit, l.MinSamplesLeaf, l.MinImpurityDecrease, l.CCPAlpha)
	}
	var mf int
	if err == nil {
		mf, err = ParseMaxFeatures(l.MaxFeatures, d.X.Cols, d.Task)
	}
	if err != nil {
		return nil, fmt.Errorf("fit decision_tree: %w", err)
	}
	td, err := PrepareBinned(ctx, d, l.MaxBins)
	if err != nil {
		return nil, fmt.Errorf("fit decision_tree: %w", err)
	}
	w := append([]float64(nil), td.W...)
	if d.Task.Classification() {
		cw, err := ClassWeights(l.ClassWeight, td, nil)
		if err != nil {
			return nil, fmt.Errorf("fit decision_tree: %w", err)
		}
		for i, c := range td.Class {
			w[i] *= cw[c]
		}
	} else if l.ClassWeight != "" && l.ClassWeight != "none" {
		return nil, fmt.Errorf("fit decision_tree: class_weight %q needs a classification task", l.ClassWeight)
	}
	cfg := Config{Criterion: crit, MaxDepth: l.MaxDepth, MinSamplesSplit: l.MinSamplesSplit, MinSamplesLeaf: l.MinSamplesLeaf,
		MaxFeatures: mf, MinImpurityDecrease: l.MinImpurityDecrease, CCPAlpha: l.CCPAlpha}
	imp := make([]float64, td.P)
	t, err := Grow(ctx, td, cfg, w, rand.New(rand.NewPCG(l.Seed, 0x7265657472656564)), imp)
	if err != nil {
		return nil, fmt.Errorf("fit decision_tree: %w", err)
	}
	normalise(imp)
	return wrap(&Model{Ensemble{Task: d.Task, K: td.K, P: td.P, Trees: []*Tree{t}, Importances: imp}}), nil
}

// Model is a fitted decision tree. Classification models are returned as
// *Classifier, which adds class probabilities.
type Model struct {
	Ensemble
}

// Classifier is a fitted classification tree.
type Classifier struct {
	*Model
}

// PredictProba implements learn.Prober: the class distribution of the leaf.
func (c Classifier) PredictProba(X *frame.Matrix) ([]float64, error) { return c.Proba(X) }

func wrap(m *Model) learn.Model {
	if m.Task.Classification() {
		return Classifier{m}
	}
	return m
}

// modelVersion is the format byte MarshalBinary writes: the ensemble
// format (see EnsembleFormat); Decode reads every format up to it.
const modelVersion = EnsembleFormat

// Kind implements learn.Model.
func (*Model) Kind() string { return "decision_tree" }

// Tree returns the fitted tree.
func (m *Model) Tree() *Tree { return m.Trees[0] }

// MarshalBinary implements encoding.BinaryMarshaler.
func (m *Model) MarshalBinary() ([]byte, error) {
	return m.AppendBinary([]byte{modelVersion}), nil
}

// Decode rebuilds a decision tree model from MarshalBinary output.
func Decode(data []byte) (learn.Model, error) {
	if len(data) == 0 || data[0] < 1 || data[0] > modelVersion {
		return nil, errors.New("unknown decision_tree format version (a newer Gyre wrote it?)")
	}
	e, err := DecodeEnsemble(&Decoder{B: data[1:]}, int(data[0]))
	if err != nil {
		return nil, err
	}
	if len(e.Trees) != 1 {
		return nil, errors.New("decision_tree model must hold exactly one tree")
	}
	return wrap(&Model{*e}), nil
}

func init() {
	learn.Register(learn.Spec{
		Name:    "decision_tree",
		Summary: "CART decision tree (gini/entropy/squared error, cost-complexity pruning, native missing values and categories)",
		Tasks:   []learn.Task{learn.Binary, learn.Multiclass, learn.Regression},
		New:     func() learn.Learner { return New() },
		Decode: func(_ string, data []byte) (learn.Model, error) {
			return Decode(data)
		},
		Kinds: []string{"decision_tree"},
	})
}

var (
	_ learn.Learner     = (*DecisionTree)(nil)
	_ learn.Model       = (*Model)(nil)
	_ learn.Prober      = Classifier{}
	_ learn.Importancer = (*Model)(nil)
)

// Fitted returns the decision tree model inside m (a *Model or Classifier),
// or nil.
func Fitted(m learn.Model) *Model {
	switch v := m.(type) {
	case *Model:
		return v
	case Classifier:
		return v.Model
	}
	return nil
}

package bundle

import (
	"fmt"

	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// Families of preprocessing. Tree learners take the raw encoding (native
// missing values and categories); the others need imputation, one-hot
// encoding and scaling first.
const (
	FamilyTrees    = "trees"
	FamilyLinear   = "linear"
	FamilyNeural   = "neural"
	FamilyDistance = "distance"
)

// FamilyOf returns the preprocessing family of a learner.
func FamilyOf(learner string) string {
	switch learner {
	case "gbdt", "random_forest", "extra_trees", "decision_tree", "naive_bayes":
		return FamilyTrees
	case "mlp":
		return FamilyNeural
	case "knn", "kmeans":
		return FamilyDistance
	}
	return FamilyLinear
}

// FitPrep fits the preprocessing of a learner family on the training frame
// (whose target column, if any, must have RoleTarget so it is left out) and
// returns it with the training design matrix.
func FitPrep(train *frame.Frame, family string) (*Prep, *frame.Matrix, error) {
	return FitPrepWith(train, family, nil)
}

// FitPrepWith is FitPrep with missingness indicators (see
// feature.EncodedField.Missing) appended to the design matrix for the named
// columns of train, whatever their role: the columns excluded as
// identifiers or free text whose missingness is kept.
func FitPrepWith(train *frame.Frame, family string, indicators []string) (*Prep, *frame.Matrix, error) {
	p, f, err := fitPrep(train, family, indicators)
	if err != nil {
		return nil, nil, err
	}
	X, err := p.Encoder.Transform(f)
	if err != nil {
		return nil, nil, fmt.Errorf("fit %s preprocessing: %w", family, err)
	}
	return p, X, nil
}

// FitPrepColumns is FitPrep giving the training design matrix one column
// at a time (see feature.Encoder.ColumnSource and learn.Dataset.Columns)
// instead of in full: the matrix's shape and the function that encodes its
// columns from the frame. indicators are as for FitPrepWith.
func FitPrepColumns(train *frame.Frame, family string, indicators []string) (p *Prep, rows, cols int, encode func(j int, dst []float64) error, err error) {
	p, f, err := fitPrep(train, family, indicators)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	if encode, err = p.Encoder.ColumnSource(f); err != nil {
		return nil, 0, 0, nil, fmt.Errorf("fit %s preprocessing: %w", family, err)
	}
	return p, f.NumRows(), len(p.Encoder.Fields), encode, nil
}

// fitPrep fits the preprocessing of a family and returns it with the frame
// its encoder takes (train, or the pipeline's output).
func fitPrep(train *frame.Frame, family string, indicators []string) (*Prep, *frame.Frame, error) {
	p := &Prep{}
	f := train
	if family != FamilyTrees {
		pl, err := feature.Auto(family, train.Schema())
		if err != nil {
			return nil, nil, fmt.Errorf("fit %s preprocessing: %w", family, err)
		}
		fitted, out, err := pl.Fit(train)
		if err != nil {
			return nil, nil, fmt.Errorf("fit %s preprocessing: %w", family, err)
		}
		p.Pipeline, f = fitted, out
	}
	enc, err := feature.FitEncoder(f, nil)
	if err == nil {
		err = enc.AddMissingIndicators(f, indicators)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fit %s preprocessing: %w", family, err)
	}
	if len(enc.Fields) == 0 {
		return nil, nil, fmt.Errorf("fit %s preprocessing: no usable feature columns (every column is the target, an id or ignored)", family)
	}
	p.Encoder = enc
	return p, f, nil
}

// Features describes the prep's design-matrix columns for learners.
func (p *Prep) Features() []learn.Feature {
	cols := p.Encoder.Columns()
	out := make([]learn.Feature, len(cols))
	for i, c := range cols {
		out[i] = learn.Feature(c)
	}
	return out
}

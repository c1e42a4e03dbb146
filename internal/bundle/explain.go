package bundle

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// ErrNoExplainer is returned by Explain when no member of the bundle
// explains itself (learn.Explainer).
var ErrNoExplainer = errors.New("no member can explain itself")

// ClassError is returned by Explain for a class it cannot explain: a
// multiclass model explains one named class at a time, a binary model
// only the log-odds of its positive class.
type ClassError struct {
	Class   string
	Classes []string
	// Binary is set for a binary model (only Classes[1] is explained).
	Binary bool
}

func (e *ClassError) Error() string {
	if e.Binary {
		return fmt.Sprintf("binary models explain the log-odds of %q; class %q is not it", e.Classes[1], e.Class)
	}
	return fmt.Sprintf("class %q: want one of %v (multiclass models explain one class at a time)", e.Class, e.Classes)
}

// FeatureContribution is one feature's mean contributions over the rows.
type FeatureContribution struct {
	Feature     string  `json:"feature"`
	MeanAbs     float64 `json:"mean_abs_contribution"`
	MeanContrib float64 `json:"mean_contribution"`
}

// Explanation is a bundle's explanation of its predictions on a frame.
type Explanation struct {
	// Member is the explained member's learner and Weight its weight: an
	// ensemble is explained through its highest-weight explainable member.
	Member string
	Weight float64
	// Output says what the contributions add up to: "value", "log-odds of
	// C" or "score of class C".
	Output string
	Rows   int
	// Bias is the mean of the rows' bias terms.
	Bias float64
	// Summary has one entry per design-matrix feature, by decreasing mean
	// absolute contribution.
	Summary []FeatureContribution
	// Contributions holds every row's contributions: a float column
	// "contrib_<feature>" per feature, then "bias".
	Contributions *frame.Frame
}

// Explain computes exact per-feature contributions (TreeSHAP for gbdt) of
// b's highest-weight explainable member to its raw output on f: the value
// for regression, the log-odds of the positive class for a binary
// classifier, the score of class (required) for a multiclass one.
func (b *Bundle) Explain(f *frame.Frame, class string) (*Explanation, error) {
	best := -1
	for i, m := range b.Members {
		if _, ok := m.Model.(learn.Explainer); ok && (best < 0 || m.Info.Weight > b.Members[best].Info.Weight) {
			best = i
		}
	}
	if best < 0 {
		names := make([]string, len(b.Members))
		for i, m := range b.Members {
			names[i] = m.Info.Learner
		}
		return nil, fmt.Errorf("explain: %w (learners: %s)", ErrNoExplainer, strings.Join(names, ", "))
	}
	m := b.Members[best]
	f, err := b.Raw(f)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	X, _, err := m.Prep.Transform(f)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	contrib, err := m.Model.(learn.Explainer).Explain(X)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	feats := m.Prep.Features()
	n, p := X.Rows, len(feats)
	c, label, err := b.explainedOutput(len(contrib)/max(1, n*(p+1)), class)
	if err != nil {
		return nil, err
	}
	ex := &Explanation{Member: m.Info.Learner, Weight: m.Info.Weight, Output: label, Rows: n}
	sumAbs := make([]float64, p)
	sum := make([]float64, p)
	cols := make([][]float64, p+1)
	for j := range cols {
		cols[j] = make([]float64, n)
	}
	for i := range n {
		row := contrib[(c*n+i)*(p+1) : (c*n+i+1)*(p+1)]
		for j := range p {
			sumAbs[j] += math.Abs(row[j])
			sum[j] += row[j]
		}
		for j, v := range row {
			cols[j][i] = v
		}
		ex.Bias += row[p] / float64(n)
	}
	order := make([]int, p)
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool { return sumAbs[order[a]] > sumAbs[order[b]] })
	for _, j := range order {
		ex.Summary = append(ex.Summary, FeatureContribution{feats[j].Name, sumAbs[j] / float64(n), sum[j] / float64(n)})
	}
	fcols := make([]frame.Column, p+1)
	for j := range fcols {
		name := "bias"
		if j < p {
			name = "contrib_" + feats[j].Name
		}
		fcols[j] = frame.NewFloat(name, cols[j])
	}
	if ex.Contributions, err = frame.New(fcols...); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	return ex, nil
}

// explainedOutput picks the output block of a model with outputs outputs
// for class, and says what it is.
func (b *Bundle) explainedOutput(outputs int, class string) (int, string, error) {
	classes := b.Manifest.Classes
	if !b.Manifest.Task.Classification() {
		return 0, "value", nil
	}
	if outputs > 1 {
		for i, name := range classes {
			if name == class {
				return i, "score of class " + class, nil
			}
		}
		return 0, "", fmt.Errorf("explain: %w", &ClassError{Class: class, Classes: classes})
	}
	if class != "" && class != classes[1] {
		return 0, "", fmt.Errorf("explain: %w", &ClassError{Class: class, Classes: classes, Binary: true})
	}
	return 0, "log-odds of " + classes[len(classes)-1], nil
}

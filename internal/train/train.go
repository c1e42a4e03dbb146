package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
)

// Problem is a learning problem on a training frame.
type Problem struct {
	// Frame holds the training rows (features and target). Rows whose
	// target is missing are dropped by NewProblem.
	Frame  *frame.Frame
	Target string
	Task   learn.Task
	// Y is the encoded target; Classes names the classes (classification).
	Y       []float64
	Classes []string
	// Dropped counts rows dropped because their target was missing.
	Dropped int
	// Ignored lists the columns left out as identifiers or free text
	// (see Exclusions), Excluded the same with the reason.
	Ignored  []string
	Excluded []Exclusion
	// Indicators lists the excluded columns whose missingness is kept as
	// a feature (<col>_missing; see Exclusion.MissingIndicator): they stay
	// in the model's input.
	Indicators []string
	// Warnings are questions about the problem worth a user's look (too
	// few rows, a class label stored as numbers); see ProblemWarnings.
	Warnings []string
	// Recipe is the user's fitted recipe (nil: none); Frame is then its
	// output and Raw the rows it was fitted on (the raw input the model
	// will be given).
	Recipe *feature.FittedPipeline
	Raw    *frame.Frame
	// sampleOf is the number of rows of the problem this one is a sample
	// of (CompareSample); 0 when it is not a sample.
	sampleOf int
}

// distinctCount returns the number of distinct present values of c.
func distinctCount(c frame.Column) int {
	distinct := map[string]struct{}{}
	for r := 0; r < c.Len(); r++ {
		if !c.IsNull(r) {
			distinct[c.Format(r)] = struct{}{}
		}
	}
	return len(distinct)
}

// idName reports whether a column name says it is an identifier: "id",
// or ending in "_id", "-id", " id" (any case) or in "Id"/"ID" after a
// lower-case letter ("PassengerId", "userID").
func idName(name string) bool {
	lower := strings.ToLower(name)
	if lower == "id" {
		return true
	}
	for _, suffix := range []string{"_id", "-id", " id"} {
		if strings.HasSuffix(lower, suffix) {
			return true
		}
	}
	if len(name) > 2 && (strings.HasSuffix(name, "Id") || strings.HasSuffix(name, "ID")) {
		r := name[len(name)-3]
		return r >= 'a' && r <= 'z'
	}
	return false
}

// hasUsableFeature reports whether some feature column can carry
// information: two different values, or values in some rows and missing in
// others (a missing indicator).
func hasUsableFeature(f *frame.Frame) bool {
	for i, c := range f.Columns() {
		if f.Role(i) != frame.RoleFeature {
			continue
		}
		nulls := c.NullCount()
		if nulls == c.Len() {
			continue
		}
		if nulls > 0 {
			return true
		}
		first := c.Format(0)
		for r := 1; r < c.Len(); r++ {
			if c.Format(r) != first {
				return true
			}
		}
	}
	return false
}

// DetectTask infers the task from a target column: text and bool columns are
// classification; integer columns with few distinct values (≤ 20, and under
// 5% of the rows) are classification too; other numbers are regression.
func DetectTask(c frame.Column) learn.Task {
	distinct := map[string]bool{}
	for i := 0; i < c.Len() && len(distinct) <= 21; i++ {
		if !c.IsNull(i) {
			distinct[c.Format(i)] = true
		}
	}
	n := len(distinct)
	switch c.Kind() {
	case frame.KindString, frame.KindCategorical, frame.KindBool:
		if n <= 2 {
			return learn.Binary
		}
		return learn.Multiclass
	case frame.KindInt:
		if n <= 20 && float64(n) < 0.05*float64(c.Len()) {
			if n <= 2 {
				return learn.Binary
			}
			return learn.Multiclass
		}
	}
	return learn.Regression
}

// NewProblem prepares a learning problem: it checks the target exists, drops
// rows whose target is missing, detects the task (unless task is given) and
// encodes the target.
func NewProblem(f *frame.Frame, target string, task learn.Task) (*Problem, error) {
	return NewProblemWith(f, target, task, ProblemOptions{})
}

// NewProblemWith is NewProblem with the columns' exclusion overridden: see
// ProblemOptions.
func NewProblemWith(f *frame.Frame, target string, task learn.Task, co ProblemOptions) (*Problem, error) {
	c, err := f.Column(target)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if c.NullCount() == c.Len() {
		return nil, fmt.Errorf("target column %q is missing in every row", target)
	}
	p := &Problem{Target: target}
	if nulls := c.NullCount(); nulls > 0 {
		keep := make([]int, 0, c.Len()-nulls)
		for i := 0; i < c.Len(); i++ {
			if !c.IsNull(i) {
				keep = append(keep, i)
			}
		}
		f = f.Take(keep)
		p.Dropped = nulls
		c, _ = f.Column(target)
	}
	if co.Recipe != nil {
		if f, err = p.fitRecipe(f, co.Recipe); err != nil {
			return nil, err
		}
		c, _ = f.Column(target)
	}
	if i := firstDifferent(c); i < 0 {
		return nil, fmt.Errorf("target %q has the one value %q in all %d rows: there is nothing to learn; check the target column (or the rows kept)", target, c.Format(0), c.Len())
	}
	detected := task == learn.TaskInvalid
	if detected {
		task = DetectTask(c)
	}
	if task == learn.Clustering {
		return nil, fmt.Errorf("target %q given for a clustering task: clustering learns without a target", target)
	}
	if err := f.SetRole(target, frame.RoleTarget); err != nil {
		return nil, err
	}
	if err := p.excludeColumns(f, co); err != nil {
		return nil, err
	}
	if !hasUsableFeature(f) {
		msg := "every other column is constant or missing in every row"
		if len(p.Ignored) > 0 {
			msg = fmt.Sprintf("every other column is constant, missing in every row, or an identifier (ignored: %s)", strings.Join(p.Ignored, ", "))
		}
		return nil, fmt.Errorf("no usable feature columns to predict %q from: %s; add columns whose values vary between rows", target, msg)
	}
	y, classes, err := feature.EncodeTarget(f, target, task.Classification())
	if err != nil {
		return nil, err
	}
	if task == learn.Binary && len(classes) > 2 {
		return nil, fmt.Errorf("target %q has %d classes: %w", target, len(classes), ErrNotBinary)
	}
	if task == learn.Multiclass && len(classes) == 2 {
		task = learn.Binary
	}
	p.Frame, p.Task, p.Y, p.Classes = f, task, y, classes
	p.Warnings = ProblemWarnings(c, task, detected)
	return p, nil
}

// Dataset fits the preprocessing of a learner family and returns the
// encoded training set.
func (p *Problem) Dataset(family string) (*bundle.Prep, *learn.Dataset, error) {
	prep, X, err := bundle.FitPrepWith(p.Frame, family, p.Indicators)
	if err != nil {
		return nil, nil, err
	}
	return prep, &learn.Dataset{X: X, Features: prep.Features(), Task: p.Task, Y: p.Y, Classes: p.Classes}, nil
}

// ColumnDataset is Dataset with the design matrix given one column at a
// time (learn.Dataset.Columns), for a learner that fits that way
// (learn.ColumnFitter): the float matrix is then never built beside the
// frame.
func (p *Problem) ColumnDataset(family string) (*bundle.Prep, *learn.Dataset, error) {
	prep, rows, cols, encode, err := bundle.FitPrepColumns(p.Frame, family, p.Indicators)
	if err != nil {
		return nil, nil, err
	}
	return prep, &learn.Dataset{X: &frame.Matrix{Rows: rows, Cols: cols}, Columns: encode, Features: prep.Features(), Task: p.Task, Y: p.Y, Classes: p.Classes}, nil
}

// Options configure Fit.
type Options struct {
	// Learner is the registered learner name.
	Learner string
	// Params are hyperparameter settings (name → text value).
	Params map[string]string
	// Seed is passed to the learner's "seed" hyperparameter when it has one.
	Seed uint64
}

// Fit trains one learner on the problem and returns a bundle (without
// metrics; see Score).
func Fit(ctx context.Context, p *Problem, o Options) (*bundle.Bundle, error) {
	spec, err := learn.Lookup(o.Learner)
	if err != nil {
		return nil, err
	}
	supported := false
	for _, t := range spec.Tasks {
		supported = supported || t == p.Task
	}
	if !supported {
		return nil, fmt.Errorf("learner %s does not do %v (it does %v)", o.Learner, p.Task, spec.Tasks)
	}
	l := spec.New()
	params := map[string]string{}
	if hasParam(l, "seed") {
		params["seed"] = fmt.Sprint(o.Seed)
	}
	for k, v := range o.Params {
		params[k] = v
	}
	keys := sortedKeys(params)
	for _, k := range keys {
		if err := learn.SetParam(l, k, params[k]); err != nil {
			return nil, err
		}
	}
	family := bundle.FamilyOf(o.Learner)
	var prep *bundle.Prep
	var d *learn.Dataset
	if cf, ok := l.(learn.ColumnFitter); ok && cf.FitsColumns() {
		prep, d, err = p.ColumnDataset(family)
	} else {
		prep, d, err = p.Dataset(family)
	}
	if err != nil {
		return nil, err
	}
	m, err := l.Fit(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("fit %s: %w", o.Learner, err)
	}
	all := map[string]string{}
	for _, pr := range learn.Params(l) {
		all[pr.Name] = pr.Default
	}
	b := p.bundleOf()
	b.Members = []bundle.Member{{Info: bundle.MemberInfo{Learner: o.Learner, Family: family, Params: all, Weight: 1}, Prep: prep, Model: m}}
	return b, nil
}

func (p *Problem) manifest() bundle.Manifest {
	var input frame.Schema
	if p.Recipe != nil {
		input.Fields = p.Recipe.RequiredInput()
	} else {
		for _, fld := range p.Frame.Schema().Fields {
			if fld.Role == frame.RoleFeature || fld.Role == frame.RoleTime {
				input.Fields = append(input.Fields, fld)
			} else if slices.Contains(p.Indicators, fld.Name) {
				fld.Role = frame.RoleFeature
				input.Fields = append(input.Fields, fld)
			}
		}
	}
	return bundle.Manifest{Task: p.Task, Target: p.Target, Classes: p.Classes, Input: input, TrainRows: p.Frame.NumRows()}
}

// Input is the training rows as the model takes them: Raw with a recipe,
// else Frame.
func (p *Problem) Input() *frame.Frame {
	if p.Raw != nil {
		return p.Raw
	}
	return p.Frame
}

// bundleOf starts the problem's bundle: its manifest and recipe.
func (p *Problem) bundleOf() *bundle.Bundle {
	return &bundle.Bundle{Manifest: p.manifest(), Recipe: p.Recipe}
}

// prepared applies the problem's recipe to a raw frame (a validation set).
func (p *Problem) prepared(f *frame.Frame) (*frame.Frame, error) {
	if p.Recipe == nil || f == nil {
		return f, nil
	}
	out, err := p.Recipe.Transform(f)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	return out, nil
}

func hasParam(l learn.Learner, name string) bool {
	for _, p := range learn.Params(l) {
		if p.Name == name {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Scores holds metric values by name.
type Scores map[string]float64

// Score evaluates a bundle on a frame holding the target column: every
// metric of the task. It also returns the prediction.
func Score(b *bundle.Bundle, f *frame.Frame) (Scores, *bundle.Prediction, []float64, error) {
	f, y, err := scoreTarget(b, f)
	if err != nil {
		return nil, nil, nil, err
	}
	pred, err := predictChunked(b, f, scoreChunkRows)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("score: %w", err)
	}
	s, err := Metrics(b.Manifest.Task, len(b.Manifest.Classes), y, pred.Values, pred.Proba)
	return s, pred, y, err
}

// scoreTarget returns f's rows with a target and their encoded targets.
func scoreTarget(b *bundle.Bundle, f *frame.Frame) (*frame.Frame, []float64, error) {
	target := b.Manifest.Target
	c, err := f.Column(target)
	if err != nil {
		return nil, nil, fmt.Errorf("score: the data has no target column: %w", err)
	}
	if nulls := c.NullCount(); nulls > 0 {
		keep := make([]int, 0, c.Len()-nulls)
		for i := 0; i < c.Len(); i++ {
			if !c.IsNull(i) {
				keep = append(keep, i)
			}
		}
		f = f.Take(keep)
		c, _ = f.Column(target)
	}
	var y []float64
	if b.Manifest.Task.Classification() {
		y, err = feature.EncodeLabels(c, b.Manifest.Classes)
	} else {
		y, _, err = feature.EncodeTarget(f, target, false)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("score: %w", err)
	}
	return f, y, nil
}

// fitOutputs is a fitted model that kept its outputs on the matrix it was
// fitted on (gbdt.Model.TakeFitOutputs).
type fitOutputs interface {
	TakeFitOutputs() (values, proba []float64)
}

// ScoreTraining is Score on the problem's training rows for a bundle Fit
// made from it. When the model kept its outputs on its training matrix
// (gbdt), the metrics come from them instead of predicting every training
// row again (1.6 of about 26 CPU s of a 1M-row gyre train; issue 24):
// they are the numbers Predict gives, and the bundle's single member has
// weight 1 and no calibration, so the scores are Score's. Otherwise, and
// with a recipe (the bundle then predicts from the raw rows), it is Score.
func ScoreTraining(b *bundle.Bundle, p *Problem) (Scores, error) {
	if len(b.Members) == 1 && p.Raw == nil {
		m := b.Members[0]
		if fo, ok := m.Model.(fitOutputs); ok && b.Manifest.Temperature == 0 && m.Info.Temperature == 0 && m.Info.Smoothing == 0 {
			values, proba := fo.TakeFitOutputs()
			if values != nil && len(values) == p.Frame.NumRows() && len(p.Y) == len(values) {
				// p.Y is the frame's target encoded as scoreTarget would
				// (NewProblem drops rows without one).
				return Metrics(b.Manifest.Task, len(b.Manifest.Classes), p.Y, values, proba)
			}
		}
	}
	s, _, _, err := Score(b, p.Input())
	return s, err
}

// scoreChunkRows is the number of rows Score predicts at a time.
const scoreChunkRows = 1 << 16

// predictChunked is b.Predict(f) over chunks of at most chunk rows, so
// scoring a large frame (the training split, after the fit) holds one
// chunk's design matrix at a time instead of a second copy of the whole
// data. Rows are predicted independently, so the result is Predict's.
func predictChunked(b *bundle.Bundle, f *frame.Frame, chunk int) (*bundle.Prediction, error) {
	n := f.NumRows()
	if n <= chunk {
		return b.Predict(f)
	}
	out := &bundle.Prediction{Classes: b.Manifest.Classes, Unseen: map[string]int{}, Values: make([]float64, 0, n)}
	for lo := 0; lo < n; lo += chunk {
		p, err := b.Predict(f.Slice(lo, min(lo+chunk, n)))
		if err != nil {
			return nil, err
		}
		out.Values = append(out.Values, p.Values...)
		if p.Proba != nil {
			if out.Proba == nil {
				out.Proba = make([]float64, 0, n*len(p.Proba)/len(p.Values))
			}
			out.Proba = append(out.Proba, p.Proba...)
		}
		for c, v := range p.Unseen {
			out.Unseen[c] += v
		}
	}
	return out, nil
}

// Metrics computes every metric of the task that is defined on the data
// (e.g. RMSLE is skipped when targets are negative).
func Metrics(task learn.Task, k int, y, pred, proba []float64) (Scores, error) {
	s := Scores{}
	in := metric.Input{Y: y, Pred: pred, Proba: proba, K: k}
	for _, m := range metric.All(metric.Task(task)) {
		if m.NeedsProba && proba == nil {
			continue
		}
		v, err := m.Score(in)
		if err != nil || math.IsNaN(v) {
			continue
		}
		s[m.Name] = v
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("score: no metric could be computed")
	}
	return s, nil
}

// ErrNotBinary is returned by NewProblem when a binary task is asked for
// and the target has more than two classes.
var ErrNotBinary = errors.New("a binary task needs 2 (ask for a multiclass task)")

// firstDifferent returns the first row whose value differs from row 0's,
// or -1 when every row holds the same value.
func firstDifferent(c frame.Column) int {
	v0 := c.Format(0)
	for i := 1; i < c.Len(); i++ {
		if c.Format(i) != v0 {
			return i
		}
	}
	return -1
}

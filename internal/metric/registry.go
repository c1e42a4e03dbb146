package metric

import (
	"fmt"
	"slices"
	"strings"
)

// Task is the kind of problem a metric scores. Its values equal learn.Task's,
// so metric.Task(t) converts a learn.Task.
type Task uint8

// Tasks.
const (
	TaskInvalid Task = iota
	Regression
	Binary
	Multiclass
	Clustering
)

// String returns the task name.
func (t Task) String() string {
	switch t {
	case Regression:
		return "regression"
	case Binary:
		return "binary"
	case Multiclass:
		return "multiclass"
	case Clustering:
		return "clustering"
	}
	return fmt.Sprintf("task(%d)", t)
}

// Input is what a registered metric scores. Fields a metric does not need may
// be left nil.
type Input struct {
	// Y holds the true targets: values (regression) or class indices 0..K-1.
	Y []float64
	// Pred holds predicted values or class indices. For classification it
	// may be nil when Proba is set: it is then derived from Proba (binary:
	// class 1 when its probability is ≥ 0.5; multiclass: the first argmax).
	Pred []float64
	// Proba holds row-major n×K class probabilities.
	Proba []float64
	// K is the number of classes (classification).
	K int
	// Weight holds optional per-row sample weights (nil: all 1).
	Weight []float64
	// X holds row-major n×Dim points for clustering metrics; Y is then
	// unused and Pred holds the cluster labels.
	X   []float64
	Dim int
}

// Predictions returns in.Pred, or the class predictions derived from
// in.Proba when Pred is nil.
func (in Input) Predictions() ([]float64, error) {
	if in.Pred != nil {
		return in.Pred, nil
	}
	if in.Proba == nil || in.K < 2 || len(in.Proba) != len(in.Y)*in.K {
		return nil, fmt.Errorf("no predictions: need Pred, or Proba with %d×K values", len(in.Y))
	}
	return ArgMax(in.Proba, in.K), nil
}

// ArgMax turns row-major n×k probabilities into class indices: for k == 2
// class 1 when its probability is ≥ 0.5, otherwise the first largest column.
func ArgMax(proba []float64, k int) []float64 {
	n := len(proba) / k
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		row := proba[i*k : (i+1)*k]
		if k == 2 {
			if row[1] >= 0.5 {
				out[i] = 1
			}
			continue
		}
		best := 0
		for c := 1; c < k; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		out[i] = float64(best)
	}
	return out
}

// Metric is a named, oriented scoring function.
type Metric struct {
	// Name is the registry name, e.g. "roc_auc".
	Name string
	// Summary is a one-line description.
	Summary string
	// Tasks lists the tasks the metric applies to.
	Tasks []Task
	// HigherIsBetter orients the metric for model selection.
	HigherIsBetter bool
	// NeedsProba is set when the metric reads Input.Proba.
	NeedsProba bool
	// Score evaluates the metric. Its errors start with the metric's name.
	Score func(in Input) (float64, error)
}

// Supports reports whether the metric applies to task t.
func (m Metric) Supports(t Task) bool { return slices.Contains(m.Tasks, t) }

// Better reports whether score a is strictly better than score b.
func (m Metric) Better(a, b float64) bool {
	if m.HigherIsBetter {
		return a > b
	}
	return a < b
}

// Loss converts a score to a quantity to minimise (the score itself, or its
// negation when higher is better).
func (m Metric) Loss(score float64) float64 {
	if m.HigherIsBetter {
		return -score
	}
	return score
}

var (
	cls     = []Task{Binary, Multiclass}
	bin     = []Task{Binary}
	reg     = []Task{Regression}
	metrics []Metric
)

func withPred(f func(y, p []float64, k int, w []float64) (float64, error)) func(Input) (float64, error) {
	return func(in Input) (float64, error) {
		p, err := in.Predictions()
		if err != nil {
			return 0, err
		}
		return f(in.Y, p, in.K, in.Weight)
	}
}

func prf(avg Average, pick func(PRF) float64) func(Input) (float64, error) {
	return withPred(func(y, p []float64, k int, w []float64) (float64, error) {
		r, err := PrecisionRecallF1(y, p, k, avg, 1, w)
		return pick(r), err
	})
}

func binProba(name string, f func(y, s, w []float64) (float64, error)) func(Input) (float64, error) {
	return func(in Input) (float64, error) {
		s := in.Proba
		if in.K == 2 && len(in.Proba) == 2*len(in.Y) {
			s = column(in.Proba, 2, 1)
		}
		if len(s) != len(in.Y) {
			return 0, fmt.Errorf("%s: %d probabilities for %d rows, want n×2 or the positive-class column", name, len(in.Proba), len(in.Y))
		}
		return f(in.Y, s, in.Weight)
	}
}

func reg1(f func(y, p, w []float64) (float64, error)) func(Input) (float64, error) {
	return func(in Input) (float64, error) { return f(in.Y, in.Pred, in.Weight) }
}

func init() {
	pr := func(r PRF) float64 { return r.Precision }
	rc := func(r PRF) float64 { return r.Recall }
	f1 := func(r PRF) float64 { return r.F1 }
	metrics = []Metric{
		{Name: "roc_auc", Summary: "area under the ROC curve (multiclass: one-vs-rest, macro)", Tasks: cls, HigherIsBetter: true, NeedsProba: true,
			Score: func(in Input) (float64, error) {
				if in.K == 2 && len(in.Proba) == len(in.Y) {
					return ROCAUC(in.Y, in.Proba, in.Weight)
				}
				return ROCAUCOvR(in.Y, in.Proba, in.K, in.Weight)
			}},
		{Name: "pr_auc", Summary: "average precision (multiclass: one-vs-rest, macro)", Tasks: cls, HigherIsBetter: true, NeedsProba: true,
			Score: func(in Input) (float64, error) {
				if in.K == 2 && len(in.Proba) == len(in.Y) {
					return AveragePrecision(in.Y, in.Proba, in.Weight)
				}
				return AveragePrecisionOvR(in.Y, in.Proba, in.K, in.Weight)
			}},
		{Name: "log_loss", Summary: "mean negative log-likelihood of the true class", Tasks: cls, NeedsProba: true,
			Score: func(in Input) (float64, error) {
				p := in.Proba
				if in.K == 2 && len(p) == len(in.Y) {
					p = make([]float64, 2*len(in.Y))
					for i, v := range in.Proba {
						p[2*i], p[2*i+1] = 1-v, v
					}
				}
				return LogLoss(in.Y, p, in.K, in.Weight)
			}},
		{Name: "brier", Summary: "mean squared error of the positive-class probability", Tasks: bin, NeedsProba: true, Score: binProba("brier score", Brier)},
		{Name: "accuracy", Summary: "fraction of correct predictions", Tasks: cls, HigherIsBetter: true,
			Score: withPred(func(y, p []float64, _ int, w []float64) (float64, error) { return Accuracy(y, p, w) })},
		{Name: "balanced_accuracy", Summary: "mean per-class recall", Tasks: cls, HigherIsBetter: true, Score: withPred(BalancedAccuracy)},
		{Name: "mcc", Summary: "Matthews correlation coefficient", Tasks: cls, HigherIsBetter: true, Score: withPred(MCC)},
		{Name: "precision", Summary: "precision of the positive class (index 1)", Tasks: bin, HigherIsBetter: true, Score: prf(AverageBinary, pr)},
		{Name: "recall", Summary: "recall of the positive class (index 1)", Tasks: bin, HigherIsBetter: true, Score: prf(AverageBinary, rc)},
		{Name: "f1", Summary: "F1 of the positive class (index 1)", Tasks: bin, HigherIsBetter: true, Score: prf(AverageBinary, f1)},
		{Name: "precision_macro", Summary: "unweighted mean of per-class precision", Tasks: cls, HigherIsBetter: true, Score: prf(AverageMacro, pr)},
		{Name: "recall_macro", Summary: "unweighted mean of per-class recall", Tasks: cls, HigherIsBetter: true, Score: prf(AverageMacro, rc)},
		{Name: "f1_macro", Summary: "unweighted mean of per-class F1", Tasks: cls, HigherIsBetter: true, Score: prf(AverageMacro, f1)},
		{Name: "precision_weighted", Summary: "support-weighted mean of per-class precision", Tasks: cls, HigherIsBetter: true, Score: prf(AverageWeighted, pr)},
		{Name: "recall_weighted", Summary: "support-weighted mean of per-class recall", Tasks: cls, HigherIsBetter: true, Score: prf(AverageWeighted, rc)},
		{Name: "f1_weighted", Summary: "support-weighted mean of per-class F1", Tasks: cls, HigherIsBetter: true, Score: prf(AverageWeighted, f1)},
		{Name: "rmse", Summary: "root mean squared error", Tasks: reg, Score: reg1(RMSE)},
		{Name: "mse", Summary: "mean squared error", Tasks: reg, Score: reg1(MSE)},
		{Name: "mae", Summary: "mean absolute error", Tasks: reg, Score: reg1(MAE)},
		{Name: "r2", Summary: "coefficient of determination", Tasks: reg, HigherIsBetter: true, Score: reg1(R2)},
		{Name: "mape", Summary: "mean absolute percentage error (a fraction)", Tasks: reg, Score: reg1(MAPE)},
		{Name: "rmsle", Summary: "root mean squared logarithmic error", Tasks: reg, Score: reg1(RMSLE)},
		{Name: "silhouette", Summary: "mean silhouette coefficient (euclidean)", Tasks: []Task{Clustering}, HigherIsBetter: true,
			Score: func(in Input) (float64, error) { return Silhouette(in.X, in.Dim, in.Pred) }},
	}
}

// Lookup returns the named metric, or an error listing every valid name.
func Lookup(name string) (Metric, error) {
	for _, m := range metrics {
		if m.Name == name {
			return m, nil
		}
	}
	all := make([]string, len(metrics))
	for i, m := range metrics {
		all[i] = m.Name
	}
	return Metric{}, fmt.Errorf("unknown metric %q (valid: %s)", name, strings.Join(all, ", "))
}

// LookupTask returns the named metric if it applies to task t, or an error
// listing the metrics valid for t.
func LookupTask(t Task, name string) (Metric, error) {
	m, err := Lookup(name)
	if err == nil && m.Supports(t) {
		return m, nil
	}
	names := Names(t)
	if len(names) == 0 {
		return Metric{}, fmt.Errorf("metric %q: no metrics for task %v", name, t)
	}
	if err == nil {
		return Metric{}, fmt.Errorf("metric %q does not apply to %v tasks (valid: %s)", name, t, strings.Join(names, ", "))
	}
	return Metric{}, fmt.Errorf("unknown metric %q for %v tasks (valid: %s)", name, t, strings.Join(names, ", "))
}

// Default returns the primary metric of a task, matching the shared
// benchmark harness: binary roc_auc, multiclass log_loss, regression rmse,
// clustering silhouette. ok is false for an invalid task.
func Default(t Task) (m Metric, ok bool) {
	name := map[Task]string{Binary: "roc_auc", Multiclass: "log_loss", Regression: "rmse", Clustering: "silhouette"}[t]
	if name == "" {
		return Metric{}, false
	}
	m, _ = Lookup(name)
	return m, true
}

// All returns the metrics that apply to task t, in registry order.
func All(t Task) []Metric {
	var out []Metric
	for _, m := range metrics {
		if m.Supports(t) {
			out = append(out, m)
		}
	}
	return out
}

// Names returns the names of the metrics that apply to task t.
func Names(t Task) []string {
	var out []string
	for _, m := range All(t) {
		out = append(out, m.Name)
	}
	return out
}

// Result is one metric's value (or why it could not be computed).
type Result struct {
	Name           string  `json:"name"`
	Value          float64 `json:"value"`
	HigherIsBetter bool    `json:"higher_is_better"`
	// Err is set instead of Value when the metric is undefined on this
	// input (e.g. ROC-AUC with one class present, RMSLE with negatives).
	Err string `json:"error,omitempty"`
}

// ScoreAll evaluates every metric of task t on in, in registry order.
// Metrics that need probabilities are skipped when in.Proba is nil;
// metrics undefined on this input are reported with Err set rather than
// failing the whole evaluation.
func ScoreAll(t Task, in Input) []Result {
	var out []Result
	for _, m := range All(t) {
		if m.NeedsProba && in.Proba == nil {
			continue
		}
		r := Result{Name: m.Name, HigherIsBetter: m.HigherIsBetter}
		v, err := m.Score(in)
		if err != nil {
			r.Err = err.Error()
		} else {
			r.Value = v
		}
		out = append(out, r)
	}
	return out
}

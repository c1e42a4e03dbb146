package monitor

import (
	"math"
	"sort"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/profile"
)

// estimate computes CBPE over all rows and per window.
func estimate(b *bundle.Bundle, p *bundle.Prediction, times []time.Time, o Options) *Estimate {
	k := len(b.Manifest.Classes)
	all := make([]int, len(p.Values))
	for i := range all {
		all[i] = i
	}
	e := &Estimate{
		Accuracy:    ExpectedAccuracy(p.Proba, k, all),
		ROCAUC:      ExpectedROCAUC(p.Proba, k, all),
		RefAccuracy: profile.Float(referenceScore(b, "accuracy")),
		RefROCAUC:   profile.Float(referenceScore(b, "roc_auc")),
	}
	if len(times) == len(p.Values) {
		for _, w := range windows(times, o.Window) {
			win := Window{Start: w.start, End: w.end, Rows: len(w.rows), Value: profile.Float(math.NaN())}
			if len(w.rows) >= o.MinWindowRows {
				win.Value = profile.Float(ExpectedROCAUC(p.Proba, k, w.rows))
			}
			e.Windows = append(e.Windows, win)
		}
	}
	return e
}

// ExpectedAccuracy is the accuracy expected from calibrated probabilities
// (row-major n×k) over the rows idx: the mean probability of the predicted
// (most probable) class.
func ExpectedAccuracy(proba []float64, k int, idx []int) float64 {
	if k == 0 || len(idx) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, i := range idx {
		best := 0.0
		for _, v := range proba[i*k : (i+1)*k] {
			best = max(best, v)
		}
		s += best
	}
	return s / float64(len(idx))
}

// ExpectedROCAUC is the ROC AUC expected from calibrated probabilities over
// the rows idx (CBPE, as NannyML): each row counts as p positive and 1 − p
// negative at every threshold, giving an expected ROC curve whose area is
// returned. Binary: the positive class is index 1; multiclass: the macro
// average of one-vs-rest areas.
func ExpectedROCAUC(proba []float64, k int, idx []int) float64 {
	if k < 2 || len(idx) == 0 {
		return math.NaN()
	}
	if k == 2 {
		return expectedAUC(proba, k, 1, idx)
	}
	s, n := 0.0, 0
	for c := 0; c < k; c++ {
		if v := expectedAUC(proba, k, c, idx); !math.IsNaN(v) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

func expectedAUC(proba []float64, k, c int, idx []int) float64 {
	scores := make([]float64, len(idx))
	for j, i := range idx {
		scores[j] = proba[i*k+c]
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(scores)))
	var pos, neg float64
	for _, s := range scores {
		pos += s
		neg += 1 - s
	}
	if pos <= 0 || neg <= 0 {
		return math.NaN()
	}
	var tp, fp, prevTPR, prevFPR, area float64
	for j := 0; j < len(scores); {
		// rows with tied scores move the curve together
		v := scores[j]
		for ; j < len(scores) && scores[j] == v; j++ {
			tp += scores[j]
			fp += 1 - scores[j]
		}
		tpr, fpr := tp/pos, fp/neg
		area += (fpr - prevFPR) * (tpr + prevTPR) / 2
		prevTPR, prevFPR = tpr, fpr
	}
	return area
}

package metric

import (
	"fmt"
	"math"
)

// Average selects how per-class precision, recall and F1 combine.
type Average uint8

// Averages.
const (
	// AverageBinary reports the positive class only.
	AverageBinary Average = iota
	// AverageMacro is the unweighted mean over the classes present in the
	// truth or the predictions (scikit-learn's average="macro").
	AverageMacro
	// AverageWeighted weights each class by its (weighted) true support.
	AverageWeighted
)

// String returns the average's name.
func (a Average) String() string {
	switch a {
	case AverageBinary:
		return "binary"
	case AverageMacro:
		return "macro"
	case AverageWeighted:
		return "weighted"
	}
	return fmt.Sprintf("average(%d)", a)
}

// ConfusionMatrix returns the k×k (weighted) confusion matrix: row = true
// class, column = predicted class.
func ConfusionMatrix(y, pred []float64, k int, w []float64) ([][]float64, error) {
	const op = "confusion matrix"
	if err := checkPair(op, y, pred, w); err != nil {
		return nil, err
	}
	if err := checkClasses(op, "target", y, k); err != nil {
		return nil, err
	}
	if err := checkClasses(op, "prediction", pred, k); err != nil {
		return nil, err
	}
	cm := make([][]float64, k)
	for i := range cm {
		cm[i] = make([]float64, k)
	}
	for i := range y {
		cm[int(y[i])][int(pred[i])] += weight(w, i)
	}
	return cm, nil
}

// Accuracy is the (weighted) fraction of exact matches between y and pred.
func Accuracy(y, pred, w []float64) (float64, error) {
	if err := checkPair("accuracy", y, pred, w); err != nil {
		return 0, err
	}
	ok, tot := 0.0, 0.0
	for i := range y {
		wi := weight(w, i)
		if y[i] == pred[i] {
			ok += wi
		}
		tot += wi
	}
	return ok / tot, nil
}

// BalancedAccuracy is the mean per-class recall over the classes present in
// y (scikit-learn's balanced_accuracy_score, adjusted=false).
func BalancedAccuracy(y, pred []float64, k int, w []float64) (float64, error) {
	cm, err := ConfusionMatrix(y, pred, k, w)
	if err != nil {
		return 0, fmt.Errorf("balanced accuracy: %w", err)
	}
	sum, n := 0.0, 0
	for c := range cm {
		sup := rowSum(cm[c])
		if sup == 0 {
			continue
		}
		sum += cm[c][c] / sup
		n++
	}
	return sum / float64(n), nil
}

func rowSum(r []float64) float64 {
	s := 0.0
	for _, v := range r {
		s += v
	}
	return s
}

// ClassStats is one row of a per-class report.
type ClassStats struct {
	Class     int     `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// Support is the (weighted) number of rows whose true class is Class.
	Support float64 `json:"support"`
	// Predicted is the (weighted) number of rows predicted as Class.
	Predicted float64 `json:"predicted"`
}

// ClassReport returns precision, recall, F1 and support for each of the k
// classes (0 where a denominator is empty).
func ClassReport(y, pred []float64, k int, w []float64) ([]ClassStats, error) {
	cm, err := ConfusionMatrix(y, pred, k, w)
	if err != nil {
		return nil, fmt.Errorf("class report: %w", err)
	}
	return reportFrom(cm), nil
}

func reportFrom(cm [][]float64) []ClassStats {
	k := len(cm)
	out := make([]ClassStats, k)
	for c := 0; c < k; c++ {
		tp := cm[c][c]
		sup := rowSum(cm[c])
		pp := 0.0
		for r := 0; r < k; r++ {
			pp += cm[r][c]
		}
		s := ClassStats{Class: c, Support: sup, Predicted: pp}
		if pp > 0 {
			s.Precision = tp / pp
		}
		if sup > 0 {
			s.Recall = tp / sup
		}
		if s.Precision+s.Recall > 0 {
			// scikit-learn's formula: 2·tp / (2·tp + fp + fn).
			s.F1 = 2 * tp / (sup + pp)
		}
		out[c] = s
	}
	return out
}

// PRF holds precision, recall and F1.
type PRF struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// PrecisionRecallF1 computes precision, recall and F1. With AverageBinary it
// reports class pos only; AverageMacro and AverageWeighted average over the
// classes present in y or pred, as scikit-learn does without labels=.
func PrecisionRecallF1(y, pred []float64, k int, avg Average, pos int, w []float64) (PRF, error) {
	cm, err := ConfusionMatrix(y, pred, k, w)
	if err != nil {
		return PRF{}, fmt.Errorf("precision/recall/f1: %w", err)
	}
	rep := reportFrom(cm)
	switch avg {
	case AverageBinary:
		if pos < 0 || pos >= k {
			return PRF{}, fmt.Errorf("precision/recall/f1: positive class %d, want one in [0, %d)", pos, k)
		}
		r := rep[pos]
		return PRF{r.Precision, r.Recall, r.F1}, nil
	case AverageMacro, AverageWeighted:
		var out PRF
		tot := 0.0
		for _, r := range rep {
			if r.Support == 0 && r.Predicted == 0 {
				continue
			}
			wt := 1.0
			if avg == AverageWeighted {
				wt = r.Support
			}
			out.Precision += wt * r.Precision
			out.Recall += wt * r.Recall
			out.F1 += wt * r.F1
			tot += wt
		}
		if tot == 0 {
			return PRF{}, nil
		}
		out.Precision /= tot
		out.Recall /= tot
		out.F1 /= tot
		return out, nil
	}
	return PRF{}, fmt.Errorf("precision/recall/f1: unknown average %v", avg)
}

// MCC is the Matthews correlation coefficient (multiclass R_K statistic
// for k > 2), 0 when undefined.
func MCC(y, pred []float64, k int, w []float64) (float64, error) {
	cm, err := ConfusionMatrix(y, pred, k, w)
	if err != nil {
		return 0, fmt.Errorf("mcc: %w", err)
	}
	t := make([]float64, k) // true totals
	p := make([]float64, k) // predicted totals
	c, s := 0.0, 0.0
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			t[i] += cm[i][j]
			p[j] += cm[i][j]
			s += cm[i][j]
		}
		c += cm[i][i]
	}
	tp, tt, ppd := 0.0, 0.0, 0.0
	for i := 0; i < k; i++ {
		tp += t[i] * p[i]
		tt += t[i] * t[i]
		ppd += p[i] * p[i]
	}
	covYP := c*s - tp
	covPP := s*s - ppd
	covYY := s*s - tt
	if covYP == 0 || covPP*covYY == 0 {
		return 0, nil
	}
	return covYP / math.Sqrt(covYY*covPP), nil
}

// checkProba validates a row-major n×k probability matrix.
func checkProba(op string, proba []float64, n, k int) error {
	if len(proba) != n*k {
		return fmt.Errorf("%s: %d probabilities for %d rows × %d classes", op, len(proba), n, k)
	}
	for i, v := range proba {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return fmt.Errorf("%s: probability of row %d class %d is %v, want a value in [0, 1]", op, i/k+1, i%k, v)
		}
	}
	return nil
}

// LogLoss is the (weighted) mean negative log-likelihood of the true class.
// As scikit-learn (eps="auto"), probabilities are clipped to [ε, 1-ε] with ε
// the float64 machine epsilon and each row is renormalised to sum to 1.
func LogLoss(y, proba []float64, k int, w []float64) (float64, error) {
	const op = "log loss"
	if len(y) == 0 {
		return 0, fmt.Errorf("%s: no rows", op)
	}
	if err := checkClasses(op, "target", y, k); err != nil {
		return 0, err
	}
	if err := checkWeights(op, w, len(y)); err != nil {
		return 0, err
	}
	if err := checkProba(op, proba, len(y), k); err != nil {
		return 0, err
	}
	const eps = 0x1p-52
	sum, tot := 0.0, 0.0
	for i := range y {
		row := proba[i*k : (i+1)*k]
		rs := 0.0
		for _, v := range row {
			rs += min(max(v, eps), 1-eps)
		}
		pt := min(max(row[int(y[i])], eps), 1-eps) / rs
		wi := weight(w, i)
		sum += -math.Log(pt) * wi
		tot += wi
	}
	return sum / tot, nil
}

// Brier is the (weighted) mean squared difference between the positive-class
// probability p1 and the 0/1 target (binary only).
func Brier(y, p1, w []float64) (float64, error) {
	const op = "brier score"
	if err := checkPair(op, y, p1, w); err != nil {
		return 0, err
	}
	if err := checkClasses(op, "target", y, 2); err != nil {
		return 0, err
	}
	if err := checkProba(op, p1, len(y), 1); err != nil {
		return 0, err
	}
	sum, tot := 0.0, 0.0
	for i := range y {
		d := y[i] - p1[i]
		wi := weight(w, i)
		sum += wi * d * d
		tot += wi
	}
	return sum / tot, nil
}

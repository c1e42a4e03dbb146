package metric

import (
	"cmp"
	"fmt"
	"slices"
)

// CurvePoint is one threshold of a ROC or precision-recall curve.
type CurvePoint struct {
	Threshold float64 `json:"threshold"`
	// FPR and TPR are the ROC coordinates; Precision and Recall the PR ones.
	FPR       float64 `json:"fpr"`
	TPR       float64 `json:"tpr"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// binaryCurve sorts by descending score and returns the cumulative weighted
// true and false positives at each distinct threshold (ties grouped), and
// the thresholds when withThr is set.
func binaryCurve(op string, y, score, w []float64, withThr bool) (thr, tps, fps []float64, err error) {
	if err := checkPair(op, y, score, w); err != nil {
		return nil, nil, nil, err
	}
	if err := checkClasses(op, "target", y, 2); err != nil {
		return nil, nil, nil, err
	}
	if err := checkFinite(op, "score", score); err != nil {
		return nil, nil, nil, err
	}
	// Scores sorted with their row beside them (no indirect loads in the
	// comparisons), ties in row order: the stable order, at pdqsort's cost
	// (a stable sort of indices through the scores took about 1 CPU s on
	// 1M rows; issue 24).
	type scoredRow struct {
		s float64
		i int
	}
	rows := make([]scoredRow, len(y))
	for i, s := range score {
		rows[i] = scoredRow{s, i}
	}
	slices.SortFunc(rows, func(a, b scoredRow) int {
		switch {
		case a.s > b.s:
			return -1
		case a.s < b.s:
			return 1
		}
		return cmp.Compare(a.i, b.i)
	})
	// The curves at their exact length (appending grew them through
	// copies of up to twice the rows).
	distinct := 1
	for n := 1; n < len(rows); n++ {
		if rows[n].s != rows[n-1].s {
			distinct++
		}
	}
	if withThr {
		thr = make([]float64, 0, distinct)
	}
	tps, fps = make([]float64, 0, distinct), make([]float64, 0, distinct)
	tp, fp := 0.0, 0.0
	for n, r := range rows {
		wi := weight(w, r.i)
		if y[r.i] == 1 {
			tp += wi
		} else {
			fp += wi
		}
		if n == len(rows)-1 || rows[n+1].s != r.s {
			if withThr {
				thr = append(thr, r.s)
			}
			tps = append(tps, tp)
			fps = append(fps, fp)
		}
	}
	if tp == 0 || fp == 0 {
		return nil, nil, nil, fmt.Errorf("%s: only one class present in the targets, need both 0 and 1", op)
	}
	return thr, tps, fps, nil
}

// ROCAUC is the area under the ROC curve for binary targets (class 1
// positive) and scores (any monotone score: probabilities, margins). Tied
// scores count half, as with scikit-learn's roc_auc_score.
func ROCAUC(y, score, w []float64) (float64, error) {
	_, tps, fps, err := binaryCurve("roc auc", y, score, w, false)
	if err != nil {
		return 0, err
	}
	area, ptp, pfp := 0.0, 0.0, 0.0
	for i := range tps {
		area += (fps[i] - pfp) * (tps[i] + ptp) / 2
		ptp, pfp = tps[i], fps[i]
	}
	return area / (tps[len(tps)-1] * fps[len(fps)-1]), nil
}

// ThresholdCurve returns, for every distinct score from the highest down,
// the ROC point (FPR, TPR) and the precision-recall point of predicting
// "positive" for scores ≥ Threshold: the data for ROC and PR plots
// (without scikit-learn's drop_intermediate thinning).
func ThresholdCurve(y, score, w []float64) ([]CurvePoint, error) {
	thr, tps, fps, err := binaryCurve("threshold curve", y, score, w, true)
	if err != nil {
		return nil, err
	}
	P, N := tps[len(tps)-1], fps[len(fps)-1]
	out := make([]CurvePoint, len(thr))
	for i := range thr {
		out[i] = CurvePoint{Threshold: thr[i], FPR: fps[i] / N, TPR: tps[i] / P,
			Precision: tps[i] / (tps[i] + fps[i]), Recall: tps[i] / P}
	}
	return out, nil
}

// AveragePrecision is the area under the precision-recall curve as the
// step-wise sum Σ (Rₙ - Rₙ₋₁)·Pₙ over distinct thresholds (scikit-learn's
// average_precision_score), class 1 positive.
func AveragePrecision(y, score, w []float64) (float64, error) {
	_, tps, fps, err := binaryCurve("average precision", y, score, w, false)
	if err != nil {
		return 0, err
	}
	P := tps[len(tps)-1]
	ap, prevR := 0.0, 0.0
	for i := range tps {
		r := tps[i] / P
		ap += (r - prevR) * tps[i] / (tps[i] + fps[i])
		prevR = r
	}
	return ap, nil
}

// ovr averages a binary ranking metric over the classes present in y,
// one class against the rest, unweighted (macro).
func ovr(op string, fn func(y, s, w []float64) (float64, error), y, proba []float64, k int, w []float64) (float64, error) {
	if len(y) == 0 {
		return 0, fmt.Errorf("%s: no rows", op)
	}
	if err := checkClasses(op, "target", y, k); err != nil {
		return 0, err
	}
	if err := checkProba(op, proba, len(y), k); err != nil {
		return 0, err
	}
	if err := checkWeights(op, w, len(y)); err != nil {
		return 0, err
	}
	yb := make([]float64, len(y))
	s := make([]float64, len(y))
	sum, n := 0.0, 0
	for c := 0; c < k; c++ {
		present := false
		for i := range y {
			yb[i] = 0
			if int(y[i]) == c {
				yb[i] = 1
				present = true
			}
			s[i] = proba[i*k+c]
		}
		if !present {
			continue
		}
		v, err := fn(yb, s, w)
		if err != nil {
			return 0, fmt.Errorf("%s: class %d: %w", op, c, err)
		}
		sum += v
		n++
	}
	if n < 2 {
		return 0, fmt.Errorf("%s: need at least 2 classes present in the targets, have %d", op, n)
	}
	return sum / float64(n), nil
}

// ROCAUCOvR is the multiclass ROC-AUC, one-vs-rest and macro-averaged over
// the classes present in y, from row-major n×k probabilities (scikit-learn's
// roc_auc_score(multi_class="ovr", average="macro")). With k == 2 it equals
// ROCAUC on the class-1 column.
func ROCAUCOvR(y, proba []float64, k int, w []float64) (float64, error) {
	if k == 2 && len(proba) == 2*len(y) {
		return ROCAUC(y, column(proba, 2, 1), w)
	}
	return ovr("roc auc (one-vs-rest)", ROCAUC, y, proba, k, w)
}

// AveragePrecisionOvR is the macro average of one-vs-rest average precision
// over the classes present in y (scikit-learn's average_precision_score on
// label-binarised targets, average="macro").
func AveragePrecisionOvR(y, proba []float64, k int, w []float64) (float64, error) {
	if k == 2 && len(proba) == 2*len(y) {
		return AveragePrecision(y, column(proba, 2, 1), w)
	}
	return ovr("average precision (one-vs-rest)", AveragePrecision, y, proba, k, w)
}

// column extracts column c of a row-major matrix with k columns.
func column(m []float64, k, c int) []float64 {
	out := make([]float64, len(m)/k)
	for i := range out {
		out[i] = m[i*k+c]
	}
	return out
}

// CalibrationBin is one bin of a reliability (calibration) diagram.
type CalibrationBin struct {
	// Lo and Hi bound the predicted probabilities in the bin.
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
	// MeanPredicted is the mean predicted probability, FractionPositive
	// the (weighted) share of positives, Weight the (weighted) row count.
	MeanPredicted    float64 `json:"mean_predicted"`
	FractionPositive float64 `json:"fraction_positive"`
	Weight           float64 `json:"weight"`
}

// CalibrationCurve bins positive-class probabilities p1 into nBins equal-width
// bins over [0, 1] and returns the non-empty bins (scikit-learn's
// calibration_curve with strategy="uniform", including its bin edges
// scaled by 1+1e-8, plus weights and counts).
func CalibrationCurve(y, p1, w []float64, nBins int) ([]CalibrationBin, error) {
	const op = "calibration curve"
	if nBins < 1 {
		return nil, fmt.Errorf("%s: %d bins, want ≥ 1", op, nBins)
	}
	if err := checkPair(op, y, p1, w); err != nil {
		return nil, err
	}
	if err := checkClasses(op, "target", y, 2); err != nil {
		return nil, err
	}
	if err := checkProba(op, p1, len(y), 1); err != nil {
		return nil, err
	}
	sumP := make([]float64, nBins)
	sumY := make([]float64, nBins)
	sumW := make([]float64, nBins)
	for i, p := range p1 {
		// scikit-learn 1.2: edges = linspace(0, 1+1e-8, n+1) and the bin
		// is searchsorted(edges[1:-1], p, side="right").
		edge := func(b int) float64 { return float64(b) * (1 + 1e-8) / float64(nBins) }
		b := min(int(p*float64(nBins)), nBins-1)
		for b > 0 && p < edge(b) {
			b--
		}
		for b < nBins-1 && p >= edge(b+1) {
			b++
		}
		wi := weight(w, i)
		sumP[b] += wi * p
		sumY[b] += wi * y[i]
		sumW[b] += wi
	}
	var out []CalibrationBin
	for b := range sumW {
		if sumW[b] == 0 {
			continue
		}
		out = append(out, CalibrationBin{Lo: float64(b) / float64(nBins), Hi: float64(b+1) / float64(nBins),
			MeanPredicted: sumP[b] / sumW[b], FractionPositive: sumY[b] / sumW[b], Weight: sumW[b]})
	}
	return out, nil
}

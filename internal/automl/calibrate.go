package automl

import (
	"math"
	"slices"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
)

// Temperature scaling (Guo et al., 2017, "On calibration of modern neural
// networks"): a classifier's probabilities p are replaced by
// softmax(log(p)/T), i.e. p_c^(1/T) renormalised. One parameter, fitted by
// minimising log loss on out-of-fold (or validation) predictions, of every
// trial (Options.CalibrateTrials) and of the final model (Options.Calibrate),
// so it never sees test data. It keeps every row's class
// ranking (accuracy, F1 and binary ROC-AUC are unchanged) and mends the
// typical miscalibration of averaged ensembles and forests, which are
// underconfident (T < 1 sharpens them), and of overfitted boosters, which
// are overconfident (T > 1 softens them).

// Temperature bounds: beyond them the scaled probabilities are effectively
// hard 0/1 or uniform, which no calibration should produce.
const (
	minTemperature float64 = 0.1
	maxTemperature float64 = 10
)

// calibrationGain is the relative out-of-fold log-loss improvement below
// which the temperature is left at 1: a smaller gain is within the noise of
// fitting one parameter on the same predictions.
const calibrationGain = 0.01

// calibrationRows caps the rows the temperature search evaluates.
const calibrationRows = 20000

// smoothings are the probability smoothings tried by a trial's calibration
// when its probabilities include exact zeros (see learn.CalibrateProba): 0
// first, as a smoothing is kept only when it gains calibrationGain over the
// best temperature alone.
var smoothings = []float64{0, 1e-4, 1e-3, 1e-2}

// fitTemperature returns the temperature minimising the log loss of the
// scaled probabilities against y (class indices), with the log loss before
// and after. The log loss of softmax(a·log p) is convex in a = 1/t, hence
// unimodal in log a, so a golden-section search over log a finds the
// minimum.
func fitTemperature(y, proba []float64, k int) (t, before, after float64, err error) {
	t, _, before, after, err = fitCalibration(y, proba, k, false)
	return t, before, after, err
}

// fitCalibration is fitTemperature that, with smooth, also tries the
// smoothings and returns the one kept (see smoothings).
func fitCalibration(y, proba []float64, k int, smooth bool) (t, eps, before, after float64, err error) {
	before, err = metric.LogLoss(y, proba, k, nil)
	if err != nil {
		return 1, 0, 0, 0, err
	}
	// The search runs on an evenly spaced sample of at most calibrationRows
	// rows (one parameter needs no more), the final loss on all of them.
	sy, sp := y, proba
	if n := len(y); n > calibrationRows {
		sy, sp = make([]float64, calibrationRows), make([]float64, calibrationRows*k)
		for i := range calibrationRows {
			r := i * n / calibrationRows
			sy[i] = y[r]
			copy(sp[i*k:(i+1)*k], proba[r*k:(r+1)*k])
		}
	}
	lossOf := func(y, proba []float64, logA, eps float64) float64 {
		scaled := slices.Clone(proba)
		learn.CalibrateProba(scaled, k, math.Exp(-logA), eps)
		l, err := metric.LogLoss(y, scaled, k, nil)
		if err != nil {
			return math.Inf(1)
		}
		return l
	}
	candidates := smoothings[:1]
	if smooth {
		candidates = smoothings
	}
	t, eps, after = 1, 0, before
	plain := before // the best loss without smoothing
	for _, e := range candidates {
		loss := func(logA float64) float64 { return lossOf(sy, sp, logA, e) }
		lo, hi := math.Log(1/maxTemperature), math.Log(1/minTemperature)
		const phi = 0.6180339887498949
		x1, x2 := hi-phi*(hi-lo), lo+phi*(hi-lo)
		f1, f2 := loss(x1), loss(x2)
		for range 60 {
			if f1 <= f2 {
				hi, x2, f2 = x2, x1, f1
				x1 = hi - phi*(hi-lo)
				f1 = loss(x1)
			} else {
				lo, x1, f1 = x1, x2, f2
				x2 = lo + phi*(hi-lo)
				f2 = loss(x2)
			}
			if hi-lo < 1e-3 {
				break
			}
		}
		logA := (lo + hi) / 2
		l := lossOf(y, proba, logA, e)
		if e == 0 {
			plain = min(plain, l)
		}
		if !(l < after) || (e > 0 && !(l < plain*(1-calibrationGain))) {
			continue
		}
		t, eps, after = math.Exp(-logA), e, l
	}
	return t, eps, before, after, nil
}

// calibrateTrial fits a temperature and a smoothing to a trial's
// out-of-fold probabilities and, when they lower their log loss by
// calibrationGain or more, calibrates oof in place and returns them (else
// 0, 0: none). With repeated cross-validation it
// fits on every repeat's predictions (runs) rather than on their average:
// an average of several models' predictions is smoother than any one
// model's, so a temperature fitted to it would over-sharpen the refitted
// model.
func (s *searcher) calibrateTrial(oof, runs []float64) (t, eps float64) {
	k := len(s.p.Classes)
	y := s.split.yValid(s)
	fitY, fitP := y, oof
	reps := 1
	if runs != nil {
		reps = len(runs) / len(oof)
		fitY = make([]float64, 0, reps*len(y))
		for range reps {
			fitY = append(fitY, y...)
		}
		fitP = runs
	}
	// Smoothing is for probabilities that can be exactly zero (votes of
	// forests, k-NN); a model whose probabilities never are (boosting,
	// logistic models) keeps a temperature alone, which ONNX export can
	// fold into its trees.
	t, eps, before, after, err := fitCalibration(fitY, fitP, k, slices.Contains(fitP, 0))
	if err != nil || (t == 1 && eps == 0) || after > before*(1-calibrationGain) {
		return 0, 0
	}
	if runs == nil {
		learn.CalibrateProba(oof, k, t, eps)
		return t, eps
	}
	learn.CalibrateProba(runs, k, t, eps)
	clear(oof)
	w := 1 / float64(reps)
	for r := range reps {
		for i, v := range runs[r*len(oof) : (r+1)*len(oof)] {
			oof[i] += w * v
		}
	}
	return t, eps
}

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

// calibFolds is the number of groups the calibration is cross-fitted over
// (see crossCalibrate).
const calibFolds = 5

// minCalibRows is the fewest rows a calibration is fitted on: below it one
// parameter cannot be told from noise.
const minCalibRows = 5 * calibFolds

// calibration is a fitted temperature and smoothing (1 and 0: none).
type calibration struct{ t, eps float64 }

func (c calibration) none() bool { return c.t == 1 && c.eps == 0 }

// calibSet holds the rows a calibration search evaluates, as log
// probabilities relative to each row's largest: lp[c] = log((p_c+eps)/top).
// At a = 1/t the calibrated probability of class c is then
// exp(a·lp[c]) / Σ_j exp(a·lp[j]), so each loss evaluation costs one exp
// per class and no allocation.
type calibSet struct {
	k  int
	y  []int
	lp []float64
}

func newCalibSet(y, proba []float64, k int, rows []int, eps float64) *calibSet {
	s := &calibSet{k: k, y: make([]int, len(rows)), lp: make([]float64, len(rows)*k)}
	for j, r := range rows {
		s.y[j] = int(y[r])
		row, out := proba[r*k:(r+1)*k], s.lp[j*k:(j+1)*k]
		top := 0.0
		for _, v := range row {
			top = max(top, v+eps)
		}
		if !(top > 0) {
			continue // all zero: uniform, as metric.LogLoss clips it
		}
		for c, v := range row {
			out[c] = math.Log((v + eps) / top) // -Inf for an exact zero
		}
	}
	return s
}

// loss returns the mean log loss at a = 1/t, the true class's probability
// clipped at 2^-52 as metric.LogLoss clips it.
func (s *calibSet) loss(a float64) float64 {
	const maxLoss = 52 * math.Ln2
	sum := 0.0
	for i, yi := range s.y {
		row := s.lp[i*s.k : (i+1)*s.k]
		z := 0.0
		for _, v := range row {
			z += math.Exp(a * v)
		}
		sum += min(math.Log(z)-a*row[yi], maxLoss)
	}
	return sum / float64(len(s.y))
}

// fitTemperature returns the temperature minimising the log loss of the
// scaled probabilities against y (class indices), with the log loss before
// and after (on all rows).
func fitTemperature(y, proba []float64, k int) (t, before, after float64, err error) {
	before, err = metric.LogLoss(y, proba, k, nil)
	if err != nil {
		return 1, 0, 0, err
	}
	c, _, _ := fitCalibration(y, proba, k, allRows(len(y)), false)
	scaled := slices.Clone(proba)
	learn.ScaleProba(scaled, k, c.t)
	after, err = metric.LogLoss(y, scaled, k, nil)
	return c.t, before, after, err
}

func allRows(n int) []int {
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	return rows
}

// fitCalibration returns the temperature (and, with smooth, the smoothing)
// minimising the log loss of the given rows, with that log loss before and
// after. The log loss of softmax(a·log p) is convex in a = 1/t, hence
// unimodal in log a, so a golden-section search over log a finds the
// minimum. A smoothing is kept only when it gains calibrationGain over the
// best temperature alone. The search runs on an evenly spaced sample of at
// most calibrationRows rows: one parameter needs no more.
func fitCalibration(y, proba []float64, k int, rows []int, smooth bool) (c calibration, before, after float64) {
	if n := len(rows); n > calibrationRows {
		sample := make([]int, calibrationRows)
		for i := range sample {
			sample[i] = rows[i*n/calibrationRows]
		}
		rows = sample
	}
	candidates := smoothings[:1]
	if smooth {
		candidates = smoothings
	}
	c = calibration{t: 1}
	plain := math.Inf(1) // the best loss without smoothing
	for _, e := range candidates {
		set := newCalibSet(y, proba, k, rows, e)
		if e == 0 {
			before = set.loss(1)
			after, plain = before, before
		}
		lo, hi := math.Log(1/maxTemperature), math.Log(1/minTemperature)
		const phi = 0.6180339887498949
		x1, x2 := hi-phi*(hi-lo), lo+phi*(hi-lo)
		f1, f2 := set.loss(math.Exp(x1)), set.loss(math.Exp(x2))
		for hi-lo > 1e-3 {
			if f1 <= f2 {
				hi, x2, f2 = x2, x1, f1
				x1 = hi - phi*(hi-lo)
				f1 = set.loss(math.Exp(x1))
			} else {
				lo, x1, f1 = x1, x2, f2
				x2 = lo + phi*(hi-lo)
				f2 = set.loss(math.Exp(x2))
			}
		}
		logA := (lo + hi) / 2
		l := set.loss(math.Exp(logA))
		if e == 0 {
			plain = min(plain, l)
		}
		if !(l < after) || (e > 0 && !(l < plain*(1-calibrationGain))) {
			continue
		}
		c, after = calibration{t: math.Exp(-logA), eps: e}, l
	}
	return c, before, after
}

// crossCalibrate fits a calibration to y and proba (n distinct rows, proba
// possibly holding several repeats of them, row i being row i mod n) and
// checks it out of fold: the rows are split into calibFolds groups, each
// group calibrated with the calibration fitted, the same way, on the
// others. The calibration is kept only when those cross-fitted
// probabilities lower the log loss by calibrationGain; it then returns the
// calibration (fitted on all rows) and the cross-fitted probabilities, which
// are honest out-of-fold predictions of a calibrated model. Else nil.
//
// The check matters where a temperature fitted in-sample is extreme: on
// near-separable data with one or two out-of-fold errors, the likelihood of
// the other rows keeps rewarding sharper probabilities (T → 0.1), and the
// model then costs far more on the next error it makes; the group holding
// the error, calibrated without it, shows that cost.
func crossCalibrate(y, proba []float64, k, n int, smooth bool) (calibration, []float64) {
	if n < minCalibRows || len(y) == 0 || len(proba) != len(y)*k {
		return calibration{}, nil
	}
	all := allRows(len(y))
	c, before, after := fitCalibration(y, proba, k, all, smooth)
	if c.none() || after > before*(1-calibrationGain) {
		return calibration{}, nil
	}
	fold := func(i int) int { return int(splitmix(uint64(i%n)) % calibFolds) }
	cross := slices.Clone(proba)
	var fit []int
	for f := range calibFolds {
		fit = fit[:0]
		for i := range y {
			if fold(i) != f {
				fit = append(fit, i)
			}
		}
		cf, b, a := fitCalibration(y, proba, k, fit, smooth)
		if cf.none() || a > b*(1-calibrationGain) {
			continue
		}
		for i := range y {
			if fold(i) == f {
				learn.CalibrateProba(cross[i*k:(i+1)*k], k, cf.t, cf.eps)
			}
		}
	}
	set := newCalibSet(y, proba, k, all, 0)
	crossSet := newCalibSet(y, cross, k, all, 0)
	if crossSet.loss(1) > set.loss(1)*(1-calibrationGain) {
		return calibration{}, nil
	}
	return c, cross
}

// splitmix is the SplitMix64 finaliser: a fixed, well-mixed hash of a row
// index, so that calibration groups do not follow any order in the rows.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// calibrateTrial fits a temperature and a smoothing to a trial's
// out-of-fold probabilities and, when they pass crossCalibrate's
// out-of-fold check, replaces oof by the cross-fitted calibrated
// probabilities and returns the calibration fitted on all of them (else 0,
// 0: none). With repeated cross-validation it fits on every repeat's
// predictions (runs) rather than on their average: an average of several
// models' predictions is smoother than any one model's, so a temperature
// fitted to it would over-sharpen the refitted model.
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
	c, cross := crossCalibrate(fitY, fitP, k, len(y), slices.Contains(fitP, 0))
	if cross == nil {
		return 0, 0
	}
	if runs == nil {
		copy(oof, cross)
		return c.t, c.eps
	}
	clear(oof)
	w := 1 / float64(reps)
	for r := range reps {
		for i, v := range cross[r*len(oof) : (r+1)*len(oof)] {
			oof[i] += w * v
		}
	}
	return c.t, c.eps
}

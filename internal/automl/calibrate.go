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

// calibrationEntries caps the probabilities (rows × classes) the
// temperature search evaluates.
const calibrationEntries = 1 << 16

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
	// sec is each row's most probable wrong class, and pseudo the weight
	// of the pseudo-error: the loss counts, besides every row's true
	// class, sec at weight pseudo (see pseudoError).
	sec    []int
	pseudo float64
	// group, when set, assigns rows to groups, and the search leaves out
	// the rows of group skip (a cross-fitting fold).
	group []int8
	skip  int8
}

func newCalibSet(y, proba []float64, k int, rows []int, eps float64) *calibSet {
	s := &calibSet{k: k, y: make([]int, len(rows)), sec: make([]int, len(rows)), lp: make([]float64, len(rows)*k), skip: -1}
	for j, r := range rows {
		s.y[j] = int(y[r])
		row, out := proba[r*k:(r+1)*k], s.lp[j*k:(j+1)*k]
		s.sec[j] = -1
		for c, v := range row {
			if c != s.y[j] && (s.sec[j] < 0 || v > row[s.sec[j]]) {
				s.sec[j] = c
			}
		}
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

// maxLogLoss is -log 2^-52: metric.LogLoss clips probabilities at 2^-52.
const maxLogLoss = 52 * math.Ln2

// pseudoError is the weight, relative to the n rows a calibration is
// fitted on, of one unseen error: by the rule of succession, a model that
// made no error on n rows still makes one on the next n+2 or so. Each row
// adds its most probable wrong class's log loss at weight 1/(n+2), so the
// loss counts one error spread over the rows' own margins. Without it a
// temperature fitted on a hundred rows the model separates perfectly
// sharpens without limit (T → 0.1): free on those rows, and the next error
// then costs -log(10⁻⁸) on a row whose raw probabilities were 5 to 1. On
// thousands of rows the term is negligible.
func pseudoError(n int) float64 { return 1 / float64(n+2) }

// loss returns the mean log loss at a = 1/t, the true class's probability
// clipped at 2^-52 as metric.LogLoss clips it, with the pseudo-error (see
// pseudoError) at weight s.pseudo.
func (s *calibSet) loss(a float64) float64 {
	sum, n := 0.0, 0
	for i, yi := range s.y {
		if s.group != nil && s.group[i] == s.skip {
			continue
		}
		n++
		row := s.lp[i*s.k : (i+1)*s.k]
		z := 0.0
		for _, v := range row {
			z += math.Exp(a * v)
		}
		sum += min(math.Log(z)-a*row[yi], maxLogLoss)
		if s.pseudo > 0 && s.sec[i] >= 0 {
			sum += s.pseudo * min(math.Log(z)-a*row[s.sec[i]], maxLogLoss)
		}
	}
	return sum / float64(max(n, 1))
}

// sampleRows returns rows, or an evenly spaced sample of them when they
// hold more than calibrationEntries probabilities of k classes.
func sampleRows(rows []int, k int) []int {
	n, most := len(rows), max(calibrationEntries/max(k, 1), minCalibRows)
	if n <= most {
		return rows
	}
	sample := make([]int, most)
	for i := range sample {
		sample[i] = rows[i*n/most]
	}
	return sample
}

func allRows(n int) []int {
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	return rows
}

// minimise returns the a = 1/t in [1/maxTemperature, 1/minTemperature]
// minimising loss, by Newton's method on the loss's first and second
// derivatives in a (one pass over the rows each), safeguarded by a
// bracket that each step's derivative sign narrows and a geometric
// bisection whenever Newton's step would leave it. The loss is convex in a
// (a log-sum-exp of linear functions of a, minus a linear one), so the
// minimum is where the derivative changes sign.
func (s *calibSet) minimise() float64 {
	lo, hi := 1/maxTemperature, 1/minTemperature
	a := 1.0
	for range 60 {
		g, h := s.derivatives(a)
		if g > 0 {
			hi = a
		} else {
			lo = a
		}
		next := a - g/h
		if !(h > 0) || !(next > lo && next < hi) {
			next = math.Sqrt(lo * hi)
		}
		if math.Abs(next-a) < 1e-4*a || hi/lo < 1+1e-4 {
			return next
		}
		a = next
	}
	return a
}

// derivatives returns the first and second derivatives of loss in a. A
// row whose loss is clipped (its true class at probability < 2^-52) does
// not move with a and contributes neither.
func (s *calibSet) derivatives(a float64) (g, h float64) {
	n := 0
	for i, yi := range s.y {
		if s.group != nil && s.group[i] == s.skip {
			continue
		}
		n++
		row := s.lp[i*s.k : (i+1)*s.k]
		z, m1, m2 := 0.0, 0.0, 0.0
		for _, v := range row {
			if math.IsInf(v, -1) {
				continue // probability 0 at any a > 0
			}
			e := math.Exp(a * v)
			z += e
			m1 += e * v
			m2 += e * v * v
		}
		m1 /= z
		v := m2/z - m1*m1
		if s.pseudo > 0 && s.sec[i] >= 0 && math.Log(z)-a*row[s.sec[i]] < maxLogLoss {
			g += s.pseudo * (m1 - row[s.sec[i]])
			h += s.pseudo * v
		}
		if math.Log(z)-a*row[yi] >= maxLogLoss {
			continue
		}
		g += m1 - row[yi]
		h += v
	}
	return g / float64(max(n, 1)), h / float64(max(n, 1))
}

// fitCalibration returns the temperature, with the smoothing among eps
// that does best, minimising the log loss of the given rows, with that log
// loss before (uncalibrated) and after; calibration{t: 1} when none
// improves it (see calibSet.minimise). A smoothing (eps > 0) is kept only
// when it gains calibrationGain over the best temperature alone, when that
// was tried. The search runs on an evenly spaced sample of at most
// calibrationEntries probabilities: one parameter needs no more. The
// losses minimised and returned count the pseudo-error at weight pseudo
// (see pseudoError; 0: none).
func fitCalibration(y, proba []float64, k int, rows []int, eps []float64, pseudo float64) (c calibration, before, after float64) {
	rows = sampleRows(rows, k)
	c, after = calibration{t: 1}, math.Inf(1)
	var plainSet *calibSet
	plain := math.Inf(1) // the best loss without smoothing
	for _, e := range eps {
		set := newCalibSet(y, proba, k, rows, e)
		set.pseudo = pseudo
		if e == 0 {
			plainSet = set
		}
		a := set.minimise()
		l := set.loss(a)
		if e == 0 {
			plain = l
		}
		if !(l < after) || (e > 0 && !(l < plain*(1-calibrationGain))) {
			continue
		}
		c, after = calibration{t: 1 / a, eps: e}, l
	}
	if plainSet == nil {
		plainSet = newCalibSet(y, proba, k, rows, 0)
		plainSet.pseudo = pseudo
	}
	before = plainSet.loss(1)
	if !(after < before) {
		c, after = calibration{t: 1}, before
	}
	return c, before, after
}

// crossCalibrate fits a calibration to y and proba (n distinct rows, proba
// possibly holding several repeats of them, row i being row i mod n) and
// checks it out of fold: the rows are split into calibFolds groups, each
// group calibrated with a temperature fitted on the others (and the
// smoothing chosen on all rows). The calibration is kept only when those
// cross-fitted probabilities lower the log loss by calibrationGain; it
// then returns the calibration (fitted on all rows), the cross-fitted
// probabilities, which are honest out-of-fold predictions of a calibrated
// model, and the log loss (metric.LogLoss) before and after it. Else nil.
//
// The check matters where a temperature fitted in-sample is extreme: on
// near-separable data with one or two out-of-fold errors, the likelihood of
// the other rows keeps rewarding sharper probabilities (T → 0.1), and the
// model then costs far more on the next error it makes; the group holding
// the error, calibrated without it, shows that cost.
func crossCalibrate(y, proba []float64, k, n int, smooth bool) (c calibration, cross []float64, before, after float64) {
	if n < minCalibRows || len(y) == 0 || len(proba) != len(y)*k {
		return calibration{}, nil, 0, 0
	}
	for _, v := range y {
		if !(v >= 0 && v < float64(k)) || v != math.Trunc(v) {
			return calibration{}, nil, 0, 0 // not class indices: leave the model as it is
		}
	}
	all := allRows(len(y))
	eps := smoothings[:1]
	if smooth {
		eps = smoothings
	}
	c, fitBefore, fitAfter := fitCalibration(y, proba, k, all, eps, pseudoError(n))
	if c.none() || fitAfter > fitBefore*(1-calibrationGain) {
		return calibration{}, nil, 0, 0
	}
	// Each distinct row's group, hashed once (row i is row i mod n).
	groups := make([]int8, n)
	for i := range groups {
		groups[i] = int8(splitmix(uint64(i)) % calibFolds)
	}
	// The groups' temperatures are fitted on one set of rows (sampled as
	// fitCalibration samples) with the smoothing chosen on all rows: a
	// smoothing is a coarse choice among four, the temperature is what
	// overfits.
	rows := sampleRows(all, k)
	set := newCalibSet(y, proba, k, rows, c.eps)
	set.pseudo = pseudoError(n)
	set.group = make([]int8, len(rows))
	for j, r := range rows {
		set.group[j] = groups[r%n]
	}
	temps := make([]float64, calibFolds)
	for f := range temps {
		set.skip = int8(f)
		temps[f] = 1 / set.minimise()
	}
	cross = slices.Clone(proba)
	for i := range y {
		learn.CalibrateProba(cross[i*k:(i+1)*k], k, temps[groups[i%n]], c.eps)
	}
	before, err1 := metric.LogLoss(y, proba, k, nil)
	after, err2 := metric.LogLoss(y, cross, k, nil)
	if err1 != nil || err2 != nil || after > before*(1-calibrationGain) {
		return calibration{}, nil, 0, 0
	}
	return c, cross, before, after
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
	c, cross, _, _ := crossCalibrate(fitY, fitP, k, len(y), slices.Contains(fitP, 0))
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

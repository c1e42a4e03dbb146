package automl

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
)

// calibrationData draws n rows of k classes whose true probabilities are
// softmax(z) and returns them with the probabilities a model at temperature
// t would report: softmax(z/t).
func calibrationData(n, k int, t float64, seed uint64) (y, reported []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	y = make([]float64, n)
	reported = make([]float64, n*k)
	z := make([]float64, k)
	for i := range n {
		for c := range z {
			z[c] = 3 * r.NormFloat64()
		}
		p := softmax(z, 1)
		u, acc := r.Float64(), 0.0
		y[i] = float64(k - 1)
		for c, v := range p {
			acc += v
			if u < acc {
				y[i] = float64(c)
				break
			}
		}
		copy(reported[i*k:], softmax(z, t))
	}
	return y, reported
}

func softmax(z []float64, t float64) []float64 {
	out := make([]float64, len(z))
	top := math.Inf(-1)
	for _, v := range z {
		top = max(top, v/t)
	}
	sum := 0.0
	for c, v := range z {
		out[c] = math.Exp(v/t - top)
		sum += out[c]
	}
	for c := range out {
		out[c] /= sum
	}
	return out
}

// fitTemperature fits a temperature alone on all rows and returns it with
// the log loss (metric.LogLoss) before and after.
func fitTemperature(y, proba []float64, k int) (t, before, after float64, err error) {
	before, err = metric.LogLoss(y, proba, k, nil)
	if err != nil {
		return 1, 0, 0, err
	}
	c, _, _ := fitCalibration(y, proba, k, allRows(len(y)), []float64{0}, 0)
	scaled := slices.Clone(proba)
	learn.ScaleProba(scaled, k, c.t)
	after, err = metric.LogLoss(y, scaled, k, nil)
	return c.t, before, after, err
}

func TestFitTemperatureRecoversMiscalibration(t *testing.T) {
	for _, tc := range []struct {
		k    int
		temp float64
	}{{2, 0.5}, {2, 2}, {3, 0.4}, {5, 1.8}} {
		y, p := calibrationData(20000, tc.k, tc.temp, 3)
		got, before, after, err := fitTemperature(y, p, tc.k)
		if err != nil {
			t.Fatal(err)
		}
		// Reported = softmax(z/T): undoing it needs temperature 1/T.
		if want := 1 / tc.temp; math.Abs(got-want)/want > 0.05 {
			t.Errorf("k=%d reported at T=%v: fitted temperature %.3f, want ≈ %.3f", tc.k, tc.temp, got, want)
		}
		if !(after < before) {
			t.Errorf("k=%d T=%v: log loss %.4f → %.4f, want lower", tc.k, tc.temp, before, after)
		}
	}
	// Calibrated probabilities stay (nearly) as they are.
	y, p := calibrationData(20000, 3, 1, 4)
	got, before, after, err := fitTemperature(y, p, 3)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-1) > 0.05 || before-after > 0.002 {
		t.Errorf("calibrated input: temperature %.3f, log loss %.4f → %.4f", got, before, after)
	}
}

func TestScaleProbaKeepsRankingAndSums(t *testing.T) {
	p := []float64{0.7, 0.2, 0.1, 0, 0.5, 0.5, 0, 0, 0}
	learn.ScaleProba(p, 3, 0.5)
	for i := 0; i < 9; i += 3 {
		s := p[i] + p[i+1] + p[i+2]
		if i < 6 && math.Abs(s-1) > 1e-12 {
			t.Errorf("row %d sums to %v", i/3, s)
		}
	}
	if !(p[0] > 0.7 && p[0] > p[1] && p[1] > p[2]) || p[3] != 0 || p[4] != 0.5 {
		t.Errorf("scaled rows %v: want sharper with the same order, zeros kept", p)
	}
	if p[6] != 0 || p[7] != 0 || p[8] != 0 {
		t.Errorf("all-zero row changed: %v", p[6:])
	}
}

// TestRunCalibratesUnderconfidentModel runs a search whose only trial is a
// barely trained (hence underconfident) logistic model: calibration must
// sharpen it (T < 1), lower the reported validation loss, and be the same on
// a second run; without Options.Calibrate the temperature stays 1.
func TestRunCalibratesUnderconfidentModel(t *testing.T) {
	run := func(calibrate bool) *Result {
		r, err := Run(context.Background(), toyProblem(), Options{Trials: 1, Seed: 1, Spaces: []Space{toySpace("0s")}, Calibrate: calibrate, Repeats: 1})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, off := run(true), run(true), run(false)
	if !(a.Temperature < 1) || !(a.CalibratedLogLoss < a.UncalibratedLogLoss) || !(a.ValidLoss < a.Best.Loss) {
		t.Fatalf("temperature %v, log loss %v → %v, valid loss %v vs best trial %v: want T < 1 and lower losses",
			a.Temperature, a.UncalibratedLogLoss, a.CalibratedLogLoss, a.ValidLoss, a.Best.Loss)
	}
	if a.Temperature != b.Temperature || a.ValidLoss != b.ValidLoss {
		t.Errorf("two runs fitted temperatures %v and %v", a.Temperature, b.Temperature)
	}
	if off.Temperature != 0 || off.ValidLoss != off.Best.Loss {
		t.Errorf("without Calibrate: temperature %v, valid loss %v (best trial %v)", off.Temperature, off.ValidLoss, off.Best.Loss)
	}
}

// TestCalibrateTrials checks per-trial calibration: every trial of an
// underconfident learner gets a temperature below 1 and a lower loss than
// the same search without it, with repeated cross-validation (fitted on the
// repeats' own predictions) as with a single one; the final model carries
// its trial's temperature; results are reproducible; and the final
// ensemble-level calibration is skipped under repeats.
func TestCalibrateTrials(t *testing.T) {
	for _, repeats := range []int{1, 3} {
		run := func(calibrate bool) *Result {
			r, err := Run(context.Background(), toyProblem(), Options{Trials: 4, Seed: 2, Spaces: []Space{toySpace("0s")},
				Calibrate: calibrate, CalibrateTrials: calibrate, Repeats: repeats, Folds: 3})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		on, again, off := run(true), run(true), run(false)
		for i, tr := range on.Trials {
			if !(tr.Temperature > 0 && tr.Temperature < 1) {
				t.Errorf("repeats %d trial %d: temperature %v, want in (0, 1)", repeats, i, tr.Temperature)
			}
			if !(tr.Loss < off.Trials[i].Loss) {
				t.Errorf("repeats %d trial %d: calibrated loss %v not below %v", repeats, i, tr.Loss, off.Trials[i].Loss)
			}
			if tr.Loss != again.Trials[i].Loss || tr.Temperature != again.Trials[i].Temperature {
				t.Errorf("repeats %d trial %d: two runs differ", repeats, i)
			}
			if off.Trials[i].Temperature != 0 {
				t.Errorf("repeats %d trial %d: temperature %v without CalibrateTrials", repeats, i, off.Trials[i].Temperature)
			}
		}
		if len(on.Members) != 1 || on.Members[0].Temperature != on.Best.Temperature {
			t.Errorf("repeats %d: final member temperature %v, best trial's %v", repeats, on.Members[0].Temperature, on.Best.Temperature)
		}
		if repeats > 1 && on.Temperature != 0 {
			t.Errorf("repeats %d: final temperature %v, want 0 (skipped under repeats)", repeats, on.Temperature)
		}
	}
}

// TestCalibrationSmoothsOnlyZeros checks that smoothing is tried only for
// probabilities with exact zeros: vote-like predictions that are
// confidently wrong on a few rows get a smoothing, the same predictions
// nudged off zero get a temperature alone.
func TestCalibrationSmoothsOnlyZeros(t *testing.T) {
	p := toyProblem()
	s := &searcher{p: p}
	n := 200
	y := make([]float64, n)
	votes := make([]float64, 2*n)
	for i := range n {
		y[i] = float64(i % 2)
		c := i % 2
		if i%50 == 0 { // a confident error
			c = 1 - c
		}
		votes[2*i+c] = 1
	}
	s.split.yv = y
	zeros := slices.Clone(votes)
	if temp, eps := s.calibrateTrial(zeros, nil); eps == 0 {
		t.Errorf("0/1 votes with errors: temperature %v, no smoothing", temp)
	}
	nudged := slices.Clone(votes)
	for i := range nudged {
		nudged[i] = 0.999*nudged[i] + 0.0005
	}
	if temp, eps := s.calibrateTrial(nudged, nil); eps != 0 || temp == 0 {
		t.Errorf("probabilities without zeros: temperature %v, smoothing %v; want a temperature alone", temp, eps)
	}
}

// TestCrossCalibrateChecksOutOfFold checks the out-of-fold guard: a
// near-separable set of predictions with one confident error, where the
// in-sample temperature fit sharpens hard and claims a large gain, is left
// uncalibrated or calibrated far more mildly (the pseudo-error);
// a genuinely miscalibrated model is calibrated, and its cross-fitted
// probabilities score close to the in-sample fit.
func TestCrossCalibrateChecksOutOfFold(t *testing.T) {
	const n, k = 300, 3
	y := make([]float64, n)
	p := make([]float64, n*k)
	for i := range n {
		y[i] = float64(i % k)
		for c := range k {
			p[i*k+c] = 0.05
		}
		p[i*k+i%k] = 0.9
	}
	p[7*k+1], p[7*k+2], p[7*k+0] = 0.01, 0.95, 0.04 // row 7 (class 1) confidently wrong
	temp, before, after, err := fitTemperature(y, p, k)
	if err != nil {
		t.Fatal(err)
	}
	if !(temp < 0.6 && after < before/2) {
		t.Fatalf("in-sample fit: temperature %.3f, log loss %.4f → %.4f; want a sharp temperature claiming a large gain", temp, before, after)
	}
	// Each cross-fitting group is calibrated without the error; the
	// pseudo-error (one unseen error for n rows) still keeps its
	// temperature from running to the 0.1 bound, so what is kept is mild
	// and gains out of fold.
	if c, cross, b, a := crossCalibrate(y, p, k, n, false); cross != nil && !(c.t > 0.5 && a < b) {
		t.Errorf("one confident error: calibration %+v kept (log loss %.4f → %.4f), want none or one with T > 0.5 that gains out of fold", c, b, a)
	}

	y, p = calibrationData(2000, 3, 0.5, 5)
	c, cross, before, after := crossCalibrate(y, p, 3, len(y), false)
	if cross == nil || math.Abs(c.t-2)/2 > 0.1 {
		t.Fatalf("reported at T=0.5: calibration %+v (cross-fitted %v), want T ≈ 2", c, cross != nil)
	}
	_, inBefore, inAfter, _ := fitTemperature(y, p, 3)
	if got, _ := metric.LogLoss(y, cross, 3, nil); got != after || before != inBefore {
		t.Errorf("reported log loss %.6f → %.6f, want %.6f → %.6f (metric.LogLoss of the inputs and cross-fitted outputs)", before, after, inBefore, got)
	}
	if !(after < inBefore && after < inAfter*1.02) {
		t.Errorf("cross-fitted log loss %.4f: want below the uncalibrated %.4f and within 2%% of the in-sample %.4f", after, inBefore, inAfter)
	}
	// The same rows repeated (repeated cross-validation) stay in one group.
	y2 := append(slices.Clone(y), y...)
	p2 := append(slices.Clone(p), p...)
	c2, cross2, _, _ := crossCalibrate(y2, p2, 3, len(y), false)
	if cross2 == nil || math.Abs(c2.t-c.t) > 1e-3 || !slices.Equal(cross2[:len(cross)], cross2[len(cross):]) {
		t.Errorf("repeated rows: calibration %+v vs %+v, or the two copies calibrated differently", c2, c)
	}
}

// TestCalibSetLossMatchesMetric checks the search's fast loss against
// metric.LogLoss of the calibrated probabilities, zeros and smoothing
// included.
func TestCalibSetLossMatchesMetric(t *testing.T) {
	y, p := calibrationData(500, 4, 0.7, 6)
	for i := 0; i < len(p); i += 13 {
		p[i] = 0
	}
	for i := 0; i < len(p); i += 4 { // rows sum to 1, as a model's do
		s := p[i] + p[i+1] + p[i+2] + p[i+3]
		for c := range 4 {
			p[i+c] /= s
		}
	}
	for _, eps := range []float64{0, 1e-3} {
		for _, temp := range []float64{0.3, 1, 2.5} {
			want := slices.Clone(p)
			learn.CalibrateProba(want, 4, temp, eps)
			ll, err := metric.LogLoss(y, want, 4, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := newCalibSet(y, p, 4, allRows(len(y)), eps).loss(1 / temp)
			if math.Abs(got-ll) > 1e-9*max(1, ll) {
				t.Errorf("eps %v T %v: fast loss %.12f, metric %.12f", eps, temp, got, ll)
			}
		}
	}
}

// BenchmarkCrossCalibrate times the calibration of one trial of letter's
// shape (3,200 holdout rows, 26 classes, vote-like probabilities with
// zeros, so the smoothings are tried too).
func BenchmarkCrossCalibrate(b *testing.B) {
	y, p := calibrationData(3200, 26, 2, 7)
	for i := range p {
		if p[i] < 0.01 {
			p[i] = 0
		}
	}
	for b.Loop() {
		crossCalibrate(y, p, 26, len(y), true)
	}
}

package validate

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/profile"
)

// datasets holds the real data sets the tests read: adult and titanic ship
// with the repository (copied from ../shared/datasets with their manifests).
const datasets = "../../examples/data/"

type golden struct {
	KS map[string]struct {
		Statistic, Pvalue float64
		N1, N2            int
	}
	Chi2 map[string]struct {
		Statistic, Pvalue float64
		Dof               int
	}
	Wasserstein map[string]struct {
		Distance float64
		RefStd   float64 `json:"ref_std"`
	}
	Jensenshannon map[string]float64
}

func loadGolden(t *testing.T) golden {
	var g golden
	frametest.Golden(t, "../../testdata/profile/golden.json", &g)
	return g
}

func column(t *testing.T, f *frame.Frame, name string) frame.Column {
	c, err := f.Column(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sortedValues(t *testing.T, f *frame.Frame, name string) []float64 {
	v, ok := profile.NumericValues(column(t, f, name))
	if !ok {
		t.Fatalf("%s not numeric", name)
	}
	slices.Sort(v)
	return v
}

// TestGoldenScipy compares the tests with scipy on titanic and adult.
func TestGoldenScipy(t *testing.T) {
	g := loadGolden(t)
	ttr := frametest.ReadCSV(t, datasets+"titanic/titanic.train.csv")
	tte := frametest.ReadCSV(t, datasets+"titanic/titanic.test.csv")
	atr := frametest.ReadCSV(t, datasets+"adult/adult.train.csv")
	ate := frametest.ReadCSV(t, datasets+"adult/adult.test.csv")
	scale := func(v []float64, a, b float64, n int) []float64 {
		out := make([]float64, 0, len(v))
		for i, x := range v {
			if n > 0 && i >= n {
				break
			}
			out = append(out, x*a+b)
		}
		slices.Sort(out)
		return out
	}
	raw := func(f *frame.Frame, name string) []float64 {
		v, _ := profile.NumericValues(column(t, f, name))
		return v
	}
	cases := map[string][2][]float64{
		"titanic.Age":          {sortedValues(t, ttr, "Age"), sortedValues(t, tte, "Age")},
		"titanic.Fare":         {sortedValues(t, ttr, "Fare"), sortedValues(t, tte, "Fare")},
		"titanic.Fare.shift":   {sortedValues(t, ttr, "Fare"), scale(raw(tte, "Fare"), 1.3, 0, 0)},
		"adult.age":            {sortedValues(t, atr, "age"), sortedValues(t, ate, "age")},
		"adult.hours-per-week": {sortedValues(t, atr, "hours-per-week"), sortedValues(t, ate, "hours-per-week")},
		"adult.age.1000":       {scale(raw(atr, "age"), 1, 0, 1000), scale(raw(ate, "age"), 1, 1, 3000)},
	}
	for name, want := range g.KS {
		c := cases[name]
		d, p := KSTwoSample(c[0], c[1])
		rtol := 1e-6 // exact method
		if max(want.N1, want.N2) > ksExactLimit {
			rtol = 0.05 // asymptotic: Stephens' approximation of kstwo
		}
		if !near(d, want.Statistic, 1e-12) || !near(p, want.Pvalue, rtol) {
			t.Errorf("KS %s: got D=%.10g p=%.10g, want D=%.10g p=%.10g", name, d, p, want.Statistic, want.Pvalue)
		}
	}
	chiCases := map[string][2]*frame.Frame{"titanic.Embarked": {ttr, tte}, "titanic.Sex": {ttr, tte}, "adult.workclass": {atr, ate}}
	for name, want := range g.Chi2 {
		col := name[strings.Index(name, ".")+1:]
		fs := chiCases[name]
		r, _ := profile.CategoryCounts(column(t, fs[0], col))
		c, _ := profile.CategoryCounts(column(t, fs[1], col))
		keys := union(r, c)
		rv, cv := make([]float64, len(keys)), make([]float64, len(keys))
		for i, k := range keys {
			rv[i], cv[i] = float64(r[k]), float64(c[k])
		}
		stat, dof, p := ChiSquare(rv, cv)
		if !near(stat, want.Statistic, 1e-9) || dof != want.Dof || !near(p, want.Pvalue, 1e-6) {
			t.Errorf("chi2 %s: got %.10g dof %d p %.10g, want %.10g dof %d p %.10g", name, stat, dof, p, want.Statistic, want.Dof, want.Pvalue)
		}
		js := JensenShannon(rv, cv)
		if w, ok := g.Jensenshannon[name]; ok && !near(js, w, 1e-9) {
			t.Errorf("JS %s: got %.10g, want %.10g", name, js, w)
		}
	}
	for name, want := range g.Jensenshannon {
		col := strings.TrimPrefix(name, "adult.")
		r, _ := profile.CategoryCounts(column(t, atr, col))
		c, _ := profile.CategoryCounts(column(t, ate, col))
		keys := union(r, c)
		rv, cv := make([]float64, len(keys)), make([]float64, len(keys))
		for i, k := range keys {
			rv[i], cv[i] = float64(r[k]), float64(c[k])
		}
		if js := JensenShannon(rv, cv); !near(js, want, 1e-9) {
			t.Errorf("JS %s: got %.10g, want %.10g", name, js, want)
		}
	}
	refProf, err := profile.Compute(context.Background(), atr, profile.Options{NoRelations: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range g.Wasserstein {
		col := strings.TrimPrefix(name, "adult.")
		a, b := sortedValues(t, atr, col), sortedValues(t, ate, col)
		if w := WassersteinSamples(a, b); !near(w, want.Distance, 1e-9) {
			t.Errorf("wasserstein %s exact: got %.10g, want %.10g", name, w, want.Distance)
		}
		// From the stored reference (quantile grid of the sketch): within
		// 0.01 reference standard deviations of scipy's exact value.
		n := refProf.Column(col).Numeric
		if !near(n.PopStd, want.RefStd, 1e-9) {
			t.Errorf("%s population std: got %g, want %g", col, n.PopStd, want.RefStd)
		}
		w := WassersteinQuantiles(n.Quantile, func(p float64) float64 { return profile.QuantileSorted(b, p) })
		if math.Abs(w-want.Distance)/want.RefStd > 0.01 {
			t.Errorf("wasserstein %s from profile: got %.6g, want %.6g (±0.01 std = %.4g)", name, w, want.Distance, 0.01*want.RefStd)
		}
	}
}

func near(got, want, rtol float64) bool {
	return math.Abs(got-want) <= rtol*math.Max(1e-300, math.Abs(want)) || math.Abs(got-want) < 1e-15
}

// sampleFrame draws n rows: x ~ N(mu, 1), c categorical with shares, b
// binary with share pb of "yes".
func sampleFrame(rng *rand.Rand, n int, mu float64, shares []float64, pb float64) *frame.Frame {
	x := make([]float64, n)
	c := make([]string, n)
	b := make([]string, n)
	for i := 0; i < n; i++ {
		x[i] = rng.NormFloat64() + mu
		u := rng.Float64()
		k := 0
		for acc := shares[0]; u > acc && k < len(shares)-1; {
			k++
			acc += shares[k]
		}
		c[i] = string(rune('A' + k))
		b[i] = "no"
		if rng.Float64() < pb {
			b[i] = "yes"
		}
	}
	return frame.MustNew(frame.NewFloat("x", x), frame.NewCategorical("c", c, nil), frame.NewCategorical("b", b, nil))
}

// TestFalseAlarmRate: two samples from one distribution, 400 seeds; each
// p-value test (KS, chi-square, z-test) alarms at p < 0.05 in about 5% of
// seeds — within 3.5 binomial standard deviations.
func TestFalseAlarmRate(t *testing.T) {
	const seeds = 400
	alarms := map[Method]int{}
	shares := []float64{0.4, 0.3, 0.2, 0.1}
	for s := uint64(0); s < seeds; s++ {
		rng := rand.New(rand.NewPCG(s, 99))
		ref := sampleFrame(rng, 500, 0, shares, 0.3)
		cur := sampleFrame(rng, 700, 0, shares, 0.3)
		rp, err := profile.Compute(context.Background(), ref, profile.Options{NoRelations: true})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Drift(rp, cur, DriftOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rep.Columns {
			if c.Drifted {
				alarms[c.Method]++
			}
		}
		if s == 0 {
			got := []Method{rep.Columns[0].Method, rep.Columns[1].Method, rep.Columns[2].Method}
			if !slices.Equal(got, []Method{MethodKS, MethodChiSquare, MethodZTest}) {
				t.Fatalf("default methods for a small reference: %v", got)
			}
		}
	}
	sd := math.Sqrt(0.05 * 0.95 / seeds)
	for _, m := range []Method{MethodKS, MethodChiSquare, MethodZTest} {
		rate := float64(alarms[m]) / seeds
		t.Logf("%s false alarm rate %.3f", m, rate)
		if math.Abs(rate-0.05) > 3.5*sd {
			t.Errorf("%s false alarm rate %.3f, want 0.05 ± %.3f", m, rate, 3.5*sd)
		}
	}
}

// TestShiftDetected: a mean shift of 0.2 std on 10,000 rows and a category
// whose share doubles are detected, with large (Wasserstein, JS) and small
// (KS, chi-square) references.
func TestShiftDetected(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name             string
		refRows          int
		refShares, cur   []float64
		numeric, categor Method
	}{
		{"large", 10000, []float64{0.2, 0.8 / 3, 0.8 / 3, 0.8 / 3}, []float64{0.4, 0.2, 0.2, 0.2}, MethodWasserstein, MethodJensenShannon},
		{"small", 1000, []float64{0.1, 0.3, 0.3, 0.3}, []float64{0.2, 0.8 / 3, 0.8 / 3, 0.8 / 3}, MethodKS, MethodChiSquare},
	} {
		ref := sampleFrame(rng, tc.refRows, 0, tc.refShares, 0.3)
		cur := sampleFrame(rng, 10000, 0.2, tc.cur, 0.3)
		same := sampleFrame(rng, 10000, 0, tc.refShares, 0.3)
		rp, _ := profile.Compute(context.Background(), ref, profile.Options{NoRelations: true})
		rep, err := Drift(rp, cur, DriftOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c := rep.Columns[0]; c.Method != tc.numeric || !c.Drifted {
			t.Errorf("%s: mean shift: %+v", tc.name, c)
		}
		if c := rep.Columns[1]; c.Method != tc.categor || !c.Drifted {
			t.Errorf("%s: category share doubled: %+v", tc.name, c)
		}
		if rep.Columns[2].Drifted {
			t.Errorf("%s: unchanged binary column drifted: %+v", tc.name, rep.Columns[2])
		}
		if !rep.DatasetDrift {
			t.Errorf("%s: 2 of 3 columns drifted but no data set drift", tc.name)
		}
		rep, _ = Drift(rp, same, DriftOptions{})
		if rep.Drifted != 0 {
			t.Errorf("%s: same distribution drifted: %+v", tc.name, rep.Columns)
		}
		// Profile against profile gives the same verdicts.
		cp, _ := profile.Compute(context.Background(), cur, profile.Options{NoRelations: true})
		rep2, err := DriftProfiles(rp, cp, DriftOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !rep2.Columns[0].Drifted || !rep2.Columns[1].Drifted || rep2.Columns[2].Drifted {
			t.Errorf("%s: DriftProfiles verdicts differ: %+v", tc.name, rep2.Columns)
		}
	}
}

func TestDriftOverridesAndErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ref := sampleFrame(rng, 5000, 0, []float64{0.5, 0.5}, 0.5)
	cur := sampleFrame(rng, 5000, 0.05, []float64{0.5, 0.5}, 0.5)
	rp, _ := profile.Compute(context.Background(), ref, profile.Options{NoRelations: true})
	rep, err := Drift(rp, cur, DriftOptions{Columns: map[string]ProblemOptions{
		"x": {Method: MethodPSI, Threshold: 0.001}, "c": {Skip: true}, "b": {Method: MethodZTest}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Columns[0]; c.Method != MethodPSI || c.Threshold != 0.001 || !c.Drifted {
		t.Errorf("override: %+v", c)
	}
	if rep.Columns[1].Skipped == "" || rep.Columns[2].Method != MethodZTest {
		t.Errorf("skip/ztest override: %+v", rep.Columns[1:])
	}
	other := frame.MustNew(frame.NewFloat("zzz", []float64{1}))
	if _, err := Drift(rp, other, DriftOptions{}); err == nil || !strings.Contains(err.Error(), "no column in common") {
		t.Errorf("no overlap: got %v", err)
	}
	if _, err := Drift(rp, cur, DriftOptions{Columns: map[string]ProblemOptions{"c": {Method: MethodKS}}}); err == nil {
		t.Error("KS on a categorical column: want an error")
	}
}

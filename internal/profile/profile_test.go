package profile

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

// datasets holds the real data sets the tests read: adult and titanic ship
// with the repository (copied from ../shared/datasets with their manifests).
const datasets = "../../examples/data/"

type golden struct {
	Columns map[string]struct {
		Count, Missing            int
		Mean, Std, Min, Max, Skew float64
		Quantiles                 []float64
	}
	Pearson, Spearman map[string]float64
}

func loadGolden(t *testing.T) golden {
	var g golden
	frametest.Golden(t, "../../testdata/profile/golden.json", &g)
	return g
}

func near(got, want, rtol float64) bool {
	return math.Abs(got-want) <= rtol*math.Max(1, math.Abs(want))
}

// TestGoldenNumpy compares column statistics and correlations with
// numpy/scipy/pandas (testdata/profile/gen.py) on titanic.
func TestGoldenNumpy(t *testing.T) {
	g := loadGolden(t)
	f := frametest.ReadCSV(t, datasets+"titanic/titanic.train.csv")
	p, err := Compute(context.Background(), f, Options{Target: "Survived"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range g.Columns {
		c := p.Column(name)
		if c == nil || c.Numeric == nil {
			t.Fatalf("column %s: no numeric summary", name)
		}
		n := c.Numeric
		if c.Count != want.Count || c.Missing != want.Missing {
			t.Errorf("%s: count/missing got %d/%d, want %d/%d", name, c.Count, c.Missing, want.Count, want.Missing)
		}
		for _, x := range []struct {
			what      string
			got, want float64
		}{{"mean", n.Mean, want.Mean}, {"std", n.Std, want.Std}, {"min", n.Min, want.Min}, {"max", n.Max, want.Max}, {"skew", n.Skewness, want.Skew}} {
			if !near(x.got, x.want, 1e-9) {
				t.Errorf("%s %s: got %.12g, want %.12g", name, x.what, x.got, x.want)
			}
		}
		if !n.QuantilesExact {
			t.Errorf("%s: quantiles not exact for %d values", name, c.Count)
		}
		for i, q := range want.Quantiles {
			if !near(n.Quantiles[i], q, 1e-9) {
				t.Errorf("%s quantile %g: got %.12g, want %.12g", name, QuantileLevels[i], n.Quantiles[i], q)
			}
		}
	}
	r := p.Relations
	idx := func(s string) int { return slices.Index(r.Numeric, s) }
	for pair, want := range g.Pearson {
		ab := strings.Split(pair, "|")
		i, j := idx(ab[0]), idx(ab[1])
		if i < 0 || j < 0 {
			t.Fatalf("pair %s not in relations %v", pair, r.Numeric)
		}
		if got := float64(r.Pearson[i][j]); !near(got, want, 1e-9) {
			t.Errorf("pearson %s: got %.12g, want %.12g", pair, got, want)
		}
		if got, want := float64(r.Spearman[i][j]), g.Spearman[pair]; !near(got, want, 1e-9) {
			t.Errorf("spearman %s: got %.12g, want %.12g", pair, got, want)
		}
	}
}

// TestQuantileSketchError checks the stated rank error of the KLL sketch on
// real data: every numeric column of adult (39k rows, beyond the exact
// limit), and a 1M-row synthetic column, for several seeds.
func TestQuantileSketchError(t *testing.T) {
	f := frametest.ReadCSV(t, datasets+"adult/adult.train.csv")
	check := func(name string, vals []float64, seed uint64) {
		sk := newKLL(seed)
		for _, v := range vals {
			sk.add(v)
		}
		if sk.exact {
			t.Fatalf("%s: sketch still exact at %d values", name, len(vals))
		}
		sorted := slices.Clone(vals)
		slices.Sort(sorted)
		qs := make([]float64, 99)
		for i := range qs {
			qs[i] = float64(i+1) / 100
		}
		est := sk.quantiles(qs)
		n := float64(len(sorted))
		worst := 0.0
		for i, q := range qs {
			lo := float64(sort.SearchFloat64s(sorted, est[i])) / n // share < v
			hi := float64(sort.Search(len(sorted), func(k int) bool { return sorted[k] > est[i] })) / n
			var e float64
			switch {
			case q < lo:
				e = lo - q
			case q > hi:
				e = q - hi
			}
			worst = math.Max(worst, e)
		}
		if worst > KLLRankError {
			t.Errorf("%s seed %d: rank error %.4f > stated %.4f", name, seed, worst, KLLRankError)
		}
	}
	for _, c := range f.Columns() {
		vals, ok := NumericValues(c)
		if !ok {
			continue
		}
		for seed := uint64(1); seed <= 3; seed++ {
			check(c.Name(), vals, seed)
		}
	}
	if !testing.Short() {
		rng := rand.New(rand.NewPCG(7, 7))
		vals := make([]float64, 1_000_000)
		for i := range vals {
			vals[i] = rng.ExpFloat64()
		}
		check("exp1M", vals, 1)
	}
}

// rankError is the worst distance between each q and the rank share of the
// estimate est[i] among the sorted values.
func rankError(sorted, qs, est []float64) float64 {
	n := float64(len(sorted))
	worst := 0.0
	for i, q := range qs {
		lo := float64(sort.SearchFloat64s(sorted, est[i])) / n // share < v
		hi := float64(sort.Search(len(sorted), func(k int) bool { return sorted[k] > est[i] })) / n
		switch {
		case q < lo:
			worst = math.Max(worst, lo-q)
		case q > hi:
			worst = math.Max(worst, q-hi)
		}
	}
	return worst
}

// TestSketchRowsQuantiles profiles columns with more values than
// SketchRows, whose sketch sees a stratified sample of them: the quantile
// grid keeps the sketch's rank error plus the sample's (well under 0.005),
// on periodic data (where a fixed stride would alias) too, counts and
// extremes stay exact; a column of few values among many missing rows
// is sketched whole (exact).
func TestSketchRowsQuantiles(t *testing.T) {
	if testing.Short() {
		t.Skip("1M-row columns")
	}
	n := 1_000_000
	rng := rand.New(rand.NewPCG(3, 3))
	exp, periodic, sparse := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range exp {
		exp[i] = rng.ExpFloat64()
		periodic[i] = float64(i % 1000) // a fixed stride dividing 1000 would see few of the values
		sparse[i] = math.NaN()
		if i%2000 == 0 {
			sparse[i] = float64(i)
		}
	}
	f, err := frame.New(frame.NewFloat("exp", exp), frame.NewFloat("periodic", periodic), frame.NewFloat("sparse", sparse))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compute(context.Background(), f, Options{NoRelations: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	grid := make([]float64, GridSize)
	for i := range grid {
		grid[i] = float64(i) / float64(GridSize-1)
	}
	for _, name := range []string{"exp", "periodic", "sparse"} {
		c := p.Column(name)
		vals, _ := NumericValues(f.Col(f.Index(name)))
		slices.Sort(vals)
		if c.Count != len(vals) || c.Numeric.Min != vals[0] || c.Numeric.Max != vals[len(vals)-1] {
			t.Errorf("%s: count %d min %g max %g, want %d %g %g", name, c.Count, c.Numeric.Min, c.Numeric.Max, len(vals), vals[0], vals[len(vals)-1])
		}
		if c.Numeric.QuantilesExact != (name == "sparse") {
			t.Errorf("%s: quantiles exact %v with %d values", name, c.Numeric.QuantilesExact, len(vals))
		}
		if e := rankError(vals, grid[1:GridSize-1], c.Numeric.QuantileGrid[1:GridSize-1]); e > KLLRankError+0.005 {
			t.Errorf("%s: quantile grid rank error %.4f > %.4f", name, e, KLLRankError+0.005)
		}
	}
}

func TestKLLMerge(t *testing.T) {
	a, b := newKLL(1), newKLL(2)
	for i := 0; i < 50000; i++ {
		a.add(float64(i))
		b.add(float64(i + 50000))
	}
	a.merge(b)
	med := a.quantiles([]float64{0.5})[0]
	if math.Abs(med-50000)/100000 > KLLRankError {
		t.Errorf("merged median %g, want about 50000", med)
	}
}

func TestDistinctHLL(t *testing.T) {
	n := 200000
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i) * 1.5
	}
	p, err := Compute(context.Background(), frame.MustNew(frame.NewFloat("x", v)), Options{NoRelations: true})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Columns[0]
	if !c.DistinctApprox || math.Abs(float64(c.Distinct-n))/float64(n) > 0.05 {
		t.Errorf("distinct %d (approx %v), want ≈%d within 5%%", c.Distinct, c.DistinctApprox, n)
	}
}

// TestEdgeCases: all-missing, constant, empty and ID-like columns give a
// profile with warnings, never a crash, and the JSON round-trips.
func TestEdgeCases(t *testing.T) {
	n := 30
	allMissing := frame.NewFloat("gone", make([]float64, n))
	allMissing.Valid = frame.NewValidity(n)
	for i := 0; i < n; i++ {
		allMissing.Valid.SetNull(i)
	}
	ids := make([]int64, n)
	consts := make([]string, n)
	for i := range ids {
		ids[i] = int64(1000 + i)
		consts[i] = "x"
	}
	y := make([]string, n)
	for i := range y {
		y[i] = []string{"a", "b"}[i%2]
	}
	f := frame.MustNew(allMissing, frame.NewInt("id", ids), frame.NewCategorical("k", consts, nil), frame.NewCategorical("y", y, nil),
		frame.NewCategorical("leak", y, nil))
	p, err := Compute(context.Background(), f, Options{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, w := range p.Warnings {
		kinds[w.Kind+":"+w.Column] = w.Message
	}
	for _, want := range []string{"all_missing:gone", "id_like:id", "constant:k", "leakage:leak"} {
		if _, ok := kinds[want]; !ok {
			t.Errorf("missing warning %s; got %v", want, kinds)
		}
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if q.Rows != n || len(q.Columns) != 5 {
		t.Errorf("round trip: %d rows %d columns", q.Rows, len(q.Columns))
	}
	empty, err := Compute(context.Background(), frame.MustNew(frame.NewFloat("x", nil)), Options{})
	if err != nil || empty.Rows != 0 {
		t.Fatalf("empty frame: %v", err)
	}
	if _, err := Compute(context.Background(), f, Options{Target: "nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown target: got %v", err)
	}
}

func TestDuplicatesAndTarget(t *testing.T) {
	f := frametest.ReadCSV(t, datasets+"adult/adult.train.csv")
	p, err := Compute(context.Background(), f, Options{Target: "class", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// pandas: adult_train.duplicated().sum() == 25
	if p.DuplicateRows != 25 {
		t.Errorf("duplicate rows %d, want 25", p.DuplicateRows)
	}
	ts := p.TargetSummary
	if ts == nil || !ts.Classification || len(ts.Classes) != 2 || ts.ClassCounts[0]+ts.ClassCounts[1] != p.Rows {
		t.Fatalf("target summary %+v", ts)
	}
	best, bestMI := "", 0.0
	for _, c := range p.Columns {
		if c.Target != nil && c.Target.MutualInformation > bestMI {
			best, bestMI = c.Name, c.Target.MutualInformation
		}
	}
	// relationship and marital-status carry the most information on income.
	if best != "relationship" && best != "marital-status" {
		t.Errorf("most informative feature %s (%.3f)", best, bestMI)
	}
	if c := p.Column("fnlwgt"); c.Numeric.Histogram.Counts == nil || len(c.Numeric.Sample) != SampleSize || c.Numeric.SampleComplete {
		t.Errorf("fnlwgt sample/histogram not kept")
	}
	var total int
	for _, k := range p.Column("age").Numeric.Histogram.Counts {
		total += k
	}
	if total != p.Rows {
		t.Errorf("age histogram holds %d of %d values", total, p.Rows)
	}
	p2, _ := Compute(context.Background(), f, Options{Target: "class", Seed: 1})
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(p2)
	if !bytes.Equal(a, b) {
		t.Error("profile is not deterministic under a seed")
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compute(ctx, frame.MustNew(frame.NewFloat("x", []float64{1, 2})), Options{}); err == nil {
		t.Error("want an error on a cancelled context")
	}
}

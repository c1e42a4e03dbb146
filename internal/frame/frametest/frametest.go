// Package frametest holds test helpers for packages that need real data as
// frames but cannot use ingest (it sits beside or above them): a plain CSV
// reader with simple type rules, the adult data set with its manifest's
// types, a cell-by-cell frame comparison, and JSON golden files.
package frametest

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// Example returns the path of a file of the repository's shared data sets,
// examples/data/<name>/<file> (e.g. Example(t, "adult", "adult.train.csv")),
// from whatever package's directory the test runs in; the test skips when
// the file is not there.
func Example(t testing.TB, name, file string) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(self), "..", "..", "..", "examples", "data", name, file)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data not found: %v", err)
	}
	return p
}

// ReadCSV loads a CSV with a header into a frame: int, float or categorical
// columns, empty cells missing.
func ReadCSV(t testing.TB, path string) *frame.Frame {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("dataset not available: %v", err)
	}
	recs := Records(t, path)
	return FrameOf(t, recs[0], recs[1:])
}

// Records reads a CSV file's records (header first) with encoding/csv, a
// reader independent of ingest's.
func Records(t testing.TB, path string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Golden decodes the JSON file at path (a test's golden values) into v.
func Golden(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// FrameOf builds a frame from CSV records: int, float or categorical columns,
// empty cells missing.
func FrameOf(t testing.TB, header []string, rows [][]string) *frame.Frame {
	var cols []frame.Column
	for j, name := range header {
		isInt, isFloat := true, true
		for _, r := range rows {
			if r[j] == "" {
				continue
			}
			if _, err := strconv.ParseInt(r[j], 10, 64); err != nil {
				isInt = false
			}
			if _, err := strconv.ParseFloat(r[j], 64); err != nil {
				isFloat = false
			}
		}
		valid := frame.NewValidity(len(rows))
		hasMissing := false
		switch {
		case isInt:
			v := make([]int64, len(rows))
			for i, r := range rows {
				if r[j] == "" {
					valid.SetNull(i)
					hasMissing = true
					continue
				}
				v[i], _ = strconv.ParseInt(r[j], 10, 64)
			}
			c := frame.NewInt(name, v)
			if hasMissing {
				c.Valid = valid
			}
			cols = append(cols, c)
		case isFloat:
			v := make([]float64, len(rows))
			for i, r := range rows {
				if r[j] == "" {
					valid.SetNull(i)
					hasMissing = true
					continue
				}
				v[i], _ = strconv.ParseFloat(r[j], 64)
			}
			c := frame.NewFloat(name, v)
			if hasMissing {
				c.Valid = valid
			}
			cols = append(cols, c)
		default:
			v := make([]string, len(rows))
			miss := make([]bool, len(rows))
			for i, r := range rows {
				v[i], miss[i] = r[j], r[j] == ""
			}
			cols = append(cols, frame.NewCategorical(name, v, miss))
		}
	}
	f, err := frame.New(cols...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// LoadAdult parses the adult CSV by hand: the numeric columns of its manifest
// become int columns, every other column categorical; empty cells are missing.
func LoadAdult(t testing.TB, path string) *frame.Frame {
	t.Helper()
	recs := Records(t, path)
	numeric := map[string]bool{"age": true, "fnlwgt": true, "education-num": true, "capital-gain": true, "capital-loss": true, "hours-per-week": true}
	header, rows := recs[0], recs[1:]
	cols := make([]frame.Column, len(header))
	for j, name := range header {
		if numeric[name] {
			c := &frame.Int{ColName: name, Values: make([]int64, len(rows))}
			for i, r := range rows {
				if r[j] == "" {
					if c.Valid == nil {
						c.Valid = frame.NewValidity(len(rows))
					}
					c.Valid.SetNull(i)
					continue
				}
				v, err := strconv.ParseInt(r[j], 10, 64)
				if err != nil {
					t.Fatalf("row %d column %s: %v", i+2, name, err)
				}
				c.Values[i] = v
			}
			cols[j] = c
			continue
		}
		vals, missing := make([]string, len(rows)), make([]bool, len(rows))
		for i, r := range rows {
			vals[i], missing[i] = r[j], r[j] == ""
		}
		cols[j] = frame.NewCategorical(name, vals, missing)
	}
	f, err := frame.New(cols...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// AssertEqual checks names, kinds, roles, missing entries and values
// cell by cell (categoricals: same levels and codes).
func AssertEqual(t testing.TB, got, want *frame.Frame) {
	t.Helper()
	if got.NumCols() != want.NumCols() || got.NumRows() != want.NumRows() {
		t.Fatalf("shape: got %d×%d %v, want %d×%d %v", got.NumRows(), got.NumCols(), got.Names(), want.NumRows(), want.NumCols(), want.Names())
	}
	for j := range want.NumCols() {
		g, w := got.Col(j), want.Col(j)
		if g.Name() != w.Name() || g.Kind() != w.Kind() || got.Role(j) != want.Role(j) {
			t.Fatalf("column %d: got %s %s %s, want %s %s %s", j, g.Name(), g.Kind(), got.Role(j), w.Name(), w.Kind(), want.Role(j))
		}
		if gc, ok := g.(*frame.Categorical); ok {
			wc := w.(*frame.Categorical)
			if len(gc.Levels) != len(wc.Levels) {
				t.Fatalf("column %s: got %d levels, want %d", g.Name(), len(gc.Levels), len(wc.Levels))
			}
			for k := range wc.Levels {
				if gc.Levels[k] != wc.Levels[k] {
					t.Fatalf("column %s level %d: got %q, want %q", g.Name(), k, gc.Levels[k], wc.Levels[k])
				}
			}
		}
		for i := range want.NumRows() {
			if g.IsNull(i) != w.IsNull(i) {
				t.Fatalf("column %s row %d: got missing=%v, want %v", g.Name(), i, g.IsNull(i), w.IsNull(i))
			}
			if w.IsNull(i) {
				continue
			}
			if gf, ok := g.(*frame.Float); ok {
				a, b := gf.Values[i], w.(*frame.Float).Values[i]
				if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
					t.Fatalf("column %s row %d: got %v, want %v", g.Name(), i, a, b)
				}
				continue
			}
			if g.Format(i) != w.Format(i) {
				t.Fatalf("column %s row %d: got %q, want %q", g.Name(), i, g.Format(i), w.Format(i))
			}
		}
	}
}

// Synthetic returns n seeded rows of 16 numeric features x0..x15, 4
// categorical features c0..c3 (levels a–e, plus f when shifted) and a
// numeric target y; shift > 0 moves the numeric means and the category
// shares, for drift benchmarks.
func Synthetic(n int, seed uint64, shift float64) *frame.Frame {
	rng := rand.New(rand.NewPCG(seed, 1))
	var cols []frame.Column
	y := make([]float64, n)
	for j := 0; j < 16; j++ {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()*float64(j+1) + shift*float64(j%3)
			y[i] += v[i] / float64(j+1)
		}
		cols = append(cols, frame.NewFloat("x"+strconv.Itoa(j), v))
	}
	levels := []string{"a", "b", "c", "d", "e", "f"}
	for j := 0; j < 4; j++ {
		v := make([]string, n)
		for i := range v {
			k := rng.IntN(len(levels) - 1)
			if shift > 0 && rng.Float64() < shift/4 {
				k = len(levels) - 1
			}
			v[i] = levels[k]
		}
		cols = append(cols, frame.NewCategorical("c"+strconv.Itoa(j), v, nil))
	}
	cols = append(cols, frame.NewFloat("y", y))
	return frame.MustNew(cols...)
}

// Mixed returns n seeded rows of 20 columns for benchmarks: 10 float
// (f0..f9, normal with mean j+shift and standard deviation j+1), 4 int
// (i0..i3, uniform below 100·(j+1)) and 6 categorical (c0..c5, 2, 5, 12,
// 40, 100 and 500 levels L0.., skewed to the low codes). With skewed,
// every third float column is exponential instead and f0 and f1 miss
// every 20th value.
func Mixed(n int, seed uint64, shift float64, skewed bool) *frame.Frame {
	rng := rand.New(rand.NewPCG(seed, 1))
	var cols []frame.Column
	for j := 0; j < 10; j++ {
		v := make([]float64, n)
		for i := range v {
			if skewed && j%3 == 0 {
				v[i] = rng.ExpFloat64() * float64(j+1)
			} else {
				v[i] = rng.NormFloat64()*float64(j+1) + float64(j) + shift
			}
		}
		c := frame.NewFloat("f"+strconv.Itoa(j), v)
		if skewed && j < 2 {
			c.Valid = frame.NewValidity(n)
			for i := 0; i < n; i += 20 {
				c.Valid.SetNull(i)
			}
		}
		cols = append(cols, c)
	}
	for j := 0; j < 4; j++ {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(rng.IntN(100 * (j + 1)))
		}
		cols = append(cols, frame.NewInt("i"+strconv.Itoa(j), v))
	}
	for j, k := range []int{2, 5, 12, 40, 100, 500} {
		levels := make([]string, k)
		for l := range levels {
			levels[l] = "L" + strconv.Itoa(l)
		}
		codes := make([]int32, n)
		for i := range codes {
			codes[i] = int32(min(rng.IntN(k), rng.IntN(k)))
		}
		cols = append(cols, &frame.Categorical{ColName: "c" + strconv.Itoa(j), Codes: codes, Levels: levels})
	}
	return frame.MustNew(cols...)
}

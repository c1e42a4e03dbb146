package gbdt

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

// modelDigest is a SHA-256 over everything a fitted model learned: base
// scores and every tree's nodes (feature, threshold bits, flags, category
// sets, children) and leaf values (exact bits). Two fits digest equally iff
// they learned the same trees bit for bit.
func modelDigest(m *Model) string {
	h := sha256.New()
	var buf [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	for _, b := range m.BaseScore() {
		put(math.Float64bits(b))
	}
	for _, t := range m.ExportTrees() {
		put(uint64(t.Output))
		put(uint64(len(t.Nodes)))
		for _, n := range t.Nodes {
			put(uint64(n.Feature))
			put(math.Float64bits(n.Threshold))
			flags := uint64(0)
			if n.Categorical {
				flags |= 1
			}
			if n.DefaultLeft {
				flags |= 2
			}
			put(flags)
			put(uint64(len(n.LeftCodes)))
			for _, c := range n.LeftCodes {
				put(uint64(c))
			}
			put(uint64(int64(n.Left)))
			put(uint64(int64(n.Right)))
		}
		put(uint64(len(t.Leaves)))
		for _, v := range t.Leaves {
			put(math.Float64bits(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// goldenCase is one training configuration whose model digest was recorded
// with the training code before the split-finding and parallelism rework
// (commit e5d52db); every later version must learn exactly the same trees.
type goldenCase struct {
	name string
	data func(t *testing.T) *learn.Dataset
	set  func(l *Learner)
	want string
}

// repoData loads the training split of examples/data/<name>.
func repoData(name string) func(t *testing.T) *learn.Dataset {
	return func(t *testing.T) *learn.Dataset {
		d, _, _, err := loadSplit(filepath.Join("..", "..", "..", "examples", "data", name))
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		return d
	}
}

// sharedData loads the training split of a shared data set, skipping the
// case when the shared directory is absent (CI without /work/shared).
// sharedRoot is the shared data set directory: $GBDT_DATASETS, else
// ../shared/datasets beside the repository (as CI lays it out), else
// /work/shared/datasets.
func sharedRoot() string {
	if v := os.Getenv("GBDT_DATASETS"); v != "" {
		return v
	}
	beside := filepath.Join("..", "..", "..", "..", "shared", "datasets")
	if _, err := os.Stat(beside); err == nil {
		return beside
	}
	return "/work/shared/datasets"
}

func sharedData(name string) func(t *testing.T) *learn.Dataset {
	return func(t *testing.T) *learn.Dataset {
		dir := filepath.Join(sharedRoot(), name)
		if _, err := os.Stat(dir); err != nil {
			t.Skipf("shared data set %s not available", dir)
		}
		d, _, _, err := loadSplit(dir)
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		return d
	}
}

// missingToy is learntest.Toy with a tenth of feature 0 and feature 3
// (categorical) missing.
func missingToy(task learn.Task, n int) func(t *testing.T) *learn.Dataset {
	return func(t *testing.T) *learn.Dataset {
		d := learntest.Toy(task, n, 3)
		r := rand.New(rand.NewPCG(9, 9))
		for i := range n {
			if r.IntN(10) == 0 {
				d.X.Set(i, 0, math.NaN())
			}
			if r.IntN(10) == 0 {
				d.X.Set(i, 3, math.NaN())
			}
		}
		return d
	}
}

// wideData is a 70,000 × 8 regression set (large enough for parallel
// partitioning and gathering).
func wideData(t *testing.T) *learn.Dataset {
	const n, p = 70_000, 8
	r := rand.New(rand.NewPCG(11, 12))
	X := frame.NewMatrix(n, p)
	y := make([]float64, n)
	for i := range n {
		s := 0.0
		for j := range p {
			v := r.NormFloat64()
			if j == 7 {
				v = math.Round(v * 3) // few distinct values
			}
			X.Set(i, j, v)
			s += v * float64(j%3-1)
		}
		y[i] = s + math.Sin(X.At(i, 0)*2) + 0.1*r.NormFloat64()
	}
	feats := make([]learn.Feature, p)
	for j := range feats {
		feats[j].Name = string(rune('a' + j))
	}
	return &learn.Dataset{X: X, Features: feats, Task: learn.Regression, Y: y}
}

func goldenCases() []goldenCase {
	rounds := func(n int) func(l *Learner) { return func(l *Learner) { l.NumTrees = n } }
	return []goldenCase{
		{"titanic/default", repoData("titanic"), nil, "71785d808a33e34f"},
		{"titanic/regularised", repoData("titanic"), func(l *Learner) {
			l.NumTrees, l.L1, l.MaxDepth, l.MinGain, l.Subsample, l.ColSample = 40, 0.5, 4, 0.01, 0.8, 0.7
			l.MinDataInLeaf, l.CatL2, l.MaxCatThreshold, l.Seed = 5, 1, 4, 7
		}, "47d46f4756ce1e9f"},
		{"adult/30", repoData("adult"), rounds(30), "29b087a2f5e64937"},
		{"bike_sharing/40", repoData("bike_sharing"), rounds(40), "2e1a8ad58fe15f1a"},
		{"bike_sharing/huber-es", repoData("bike_sharing"), func(l *Learner) {
			l.NumTrees, l.Objective, l.EarlyStoppingRounds, l.MaxLeaves = 60, ObjHuber, 5, 63
		}, "b77a31467da5ace3"},
		{"bike_sharing/absolute", repoData("bike_sharing"), func(l *Learner) { l.NumTrees, l.Objective = 20, ObjAbsolute }, "8513242a010ac46f"},
		{"toy-multiclass/missing", missingToy(learn.Multiclass, 3000), rounds(30), "418c1eb7b16d10dd"},
		{"toy-regression/monotone", missingToy(learn.Regression, 3000), func(l *Learner) {
			l.NumTrees, l.MonotoneConstraints, l.L1 = 30, []int{1, -1, 0, 0, 1}, 0.2
		}, "ad14d3eb50a1f476"},
		{"wide/20", wideData, func(l *Learner) { l.NumTrees, l.MaxLeaves, l.Subsample = 20, 63, 0.9 }, "18987807f66d9d6b"},
		{"wine_quality_white/default", sharedData("wine_quality_white"), nil, "9f9f070d9f290699"},
		{"weight_lifting/20", sharedData("weight_lifting"), rounds(20), "43b38e26ddb1fd7a"},
	}
}

// TestTrainingGolden checks that training learns exactly the trees it
// learned before the training-speed rework, with one and two threads:
// speed changes must not change models.
func TestTrainingGolden(t *testing.T) {
	print := os.Getenv("GBDT_GOLDEN_PRINT") != ""
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			d := c.data(t)
			var first string
			for _, threads := range []int{1, 2, 3} {
				l := New()
				l.Seed = 1
				if c.set != nil {
					c.set(l)
				}
				l.Threads = threads
				m, err := l.FitModel(context.Background(), d)
				if err != nil {
					t.Fatal(err)
				}
				got := modelDigest(m)
				if print {
					t.Logf("%s threads=%d digest %s", c.name, threads, got)
				}
				if threads == 1 {
					first = got
					checkFitOutputs(t, m, d, c.name == "bike_sharing/huber-es")
				} else if got != first {
					t.Errorf("threads=%d learned different trees (digest %s) than threads=1 (%s)", threads, got, first)
				}
				if threads == 2 {
					// The same matrix given one column at a time (what
					// train.Fit gives): the same bins, the same trees.
					if !l.FitsColumns() {
						t.Fatal("the learner does not fit a data set given by columns")
					}
					m, err := l.FitModel(context.Background(), byColumns(d))
					if err != nil {
						t.Fatal(err)
					}
					if got := modelDigest(m); got != first {
						t.Errorf("the data set given by columns learned different trees (digest %s) than the matrix (%s)", got, first)
					}
				}
			}
			// Digests were recorded on amd64; other architectures may fuse
			// multiply-adds (arm64, ppc64le, s390x) and differ in last bits.
			if !print && runtime.GOARCH == "amd64" && first != c.want {
				t.Errorf("digest %s, want %s (the trees learned changed)", first, c.want)
			}
		})
	}
}

// byColumns is d with its matrix given one column at a time
// (learn.Dataset.Columns) and X holding only its shape.
func byColumns(d *learn.Dataset) *learn.Dataset {
	c := *d
	c.X = &frame.Matrix{Rows: d.X.Rows, Cols: d.X.Cols}
	c.Columns = func(j int, dst []float64) error {
		copy(dst, d.X.Col(j))
		return nil
	}
	return &c
}

// checkFitOutputs checks that a model's outputs on its training matrix
// (TakeFitOutputs) are Predict's and Probabilities' bit for bit, and that
// they are given once; with early stopping they may be absent (rounds
// dropped).
func checkFitOutputs(t *testing.T, m *Model, d *learn.Dataset, mayLack bool) {
	t.Helper()
	values, proba := m.TakeFitOutputs()
	if values == nil {
		if !mayLack {
			t.Error("the fit kept no outputs of its training matrix")
		}
		return
	}
	if v, _ := m.TakeFitOutputs(); v != nil {
		t.Error("TakeFitOutputs gave the outputs twice")
	}
	want, err := m.Predict(d.X)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "fit outputs vs Predict", values, want)
	if m.Task().Classification() {
		wantP, err := m.Probabilities(d.X)
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, "fit probabilities vs Probabilities", proba, wantP)
	} else if proba != nil {
		t.Error("a regression model gave probabilities")
	}
}

// Command forest benchmarks Gyre's random forest (or extra trees) on a shared
// data set: it reads NAME.train.csv and NAME.test.csv with encoding/csv
// (categorical columns from manifest.json become codes, empty cells NaN),
// fits, scores the test split and times fit and batch prediction. It prints
// one JSON line.
//
//	go run ./bench/forest -data ../shared/datasets/adult -trees 300
//
// With -encode onehot it encodes like the scikit-learn peer in
// ../shared/bench/peers.py (categoricals with ≤ 32 levels one-hot with
// missing as its own level, others ordinal codes; numerics median-imputed),
// so both learners see the same columns.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/forest"
)

type manifest struct {
	Name          string   `json:"name"`
	Task          string   `json:"task"`
	Target        string   `json:"target"`
	Categorical   []string `json:"categorical_columns"`
	Classes       []string `json:"classes"`
	PositiveClass string   `json:"positive_class"`
}

type table struct {
	header []string
	rows   [][]string
}

func readCSV(path string) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("read %s: no rows", path)
	}
	return &table{header: recs[0], rows: recs[1:]}, nil
}

// column encodes one input column into one or more feature columns.
type column struct {
	src     int
	name    string
	cat     bool
	levels  []string
	index   map[string]int
	onehot  bool
	median  float64
	impute  bool
	missing bool // one-hot: missing is its own level
}

func build(m *manifest, tr *table, encode string) []*column {
	isCat := map[string]bool{}
	for _, c := range m.Categorical {
		isCat[c] = true
	}
	var cols []*column
	for j, h := range tr.header {
		if h == m.Target {
			continue
		}
		c := &column{src: j, name: h, cat: isCat[h]}
		if c.cat {
			seen := map[string]bool{}
			for _, r := range tr.rows {
				if r[j] == "" {
					c.missing = true
				} else {
					seen[r[j]] = true
				}
			}
			for v := range seen {
				c.levels = append(c.levels, v)
			}
			sort.Strings(c.levels)
			c.index = map[string]int{}
			for i, v := range c.levels {
				c.index[v] = i
			}
			c.onehot = encode == "onehot" && len(c.levels) <= 32
			c.impute = encode == "onehot"
		} else if encode == "onehot" {
			var vs []float64
			for _, r := range tr.rows {
				if v, err := strconv.ParseFloat(r[j], 64); err == nil && r[j] != "" {
					vs = append(vs, v)
				}
			}
			slices.Sort(vs)
			if n := len(vs); n > 0 {
				c.median = vs[n/2]
				if n%2 == 0 {
					c.median = (vs[n/2-1] + vs[n/2]) / 2
				}
			}
			c.impute = true
		}
		cols = append(cols, c)
	}
	return cols
}

func features(cols []*column) []learn.Feature {
	var fs []learn.Feature
	for _, c := range cols {
		switch {
		case c.onehot:
			for _, l := range c.levels {
				fs = append(fs, learn.Feature{Name: c.name + "=" + l})
			}
			if c.missing {
				fs = append(fs, learn.Feature{Name: c.name + "=missing"})
			}
		case c.cat:
			fs = append(fs, learn.Feature{Name: c.name, Categorical: !c.impute, Levels: c.levels})
		default:
			fs = append(fs, learn.Feature{Name: c.name})
		}
	}
	return fs
}

func matrix(cols []*column, t *table, p int) *frame.Matrix {
	X := frame.NewMatrix(len(t.rows), p)
	for i, r := range t.rows {
		j := 0
		for _, c := range cols {
			s := r[c.src]
			switch {
			case c.onehot:
				k, ok := c.index[s]
				for l := range c.levels {
					v := 0.0
					if ok && l == k {
						v = 1
					}
					X.Set(i, j, v)
					j++
				}
				if c.missing {
					v := 0.0
					if s == "" {
						v = 1
					}
					X.Set(i, j, v)
					j++
				}
			case c.cat:
				v := math.NaN()
				if k, ok := c.index[s]; ok {
					v = float64(k)
				} else if c.impute {
					v = -1
				}
				X.Set(i, j, v)
				j++
			default:
				v, err := strconv.ParseFloat(s, 64)
				if s == "" || err != nil {
					v = math.NaN()
					if c.impute {
						v = c.median
					}
				}
				X.Set(i, j, v)
				j++
			}
		}
	}
	return X
}

func targets(m *manifest, t *table) []float64 {
	j := slices.Index(t.header, m.Target)
	y := make([]float64, len(t.rows))
	for i, r := range t.rows {
		switch m.Task {
		case "regression":
			y[i], _ = strconv.ParseFloat(r[j], 64)
		default:
			y[i] = float64(slices.Index(m.Classes, r[j]))
		}
	}
	return y
}

func rocAUC(y, s []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	// Mann–Whitney U with average ranks for ties.
	var rankSum, npos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && s[idx[j]] == s[idx[i]] {
			j++
		}
		r := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				rankSum += r
				npos++
			}
		}
		i = j
	}
	nneg := float64(len(y)) - npos
	return (rankSum - npos*(npos+1)/2) / (npos * nneg)
}

func main() {
	dir := flag.String("data", "../shared/datasets/adult", "data set directory (manifest.json, NAME.train.csv, NAME.test.csv)")
	trees := flag.Int("trees", 300, "number of trees")
	depth := flag.Int("depth", 0, "max depth (0: unlimited)")
	jobs := flag.Int("jobs", 2, "trees grown at once")
	learner := flag.String("learner", "random_forest", "random_forest or extra_trees")
	encode := flag.String("encode", "native", "native (categorical codes) or onehot (like the scikit-learn peer)")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile of the fit to this file")
	flag.StringVar(&predProfile, "predictprofile", "", "write a CPU profile of the batch prediction to this file")
	seed := flag.Uint64("seed", 0, "seed")
	flag.IntVar(&maxBins, "maxbins", 0, "max_bins (0: exact thresholds)")
	flag.Parse()
	if err := run(*dir, *trees, *depth, *jobs, *learner, *encode, *cpuprof, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "forest bench:", err)
		os.Exit(1)
	}
}

func run(dir string, trees, depth, jobs int, learner, encode, cpuprof string, seed uint64) error {
	var m manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	tr, err := readCSV(filepath.Join(dir, m.Name+".train.csv"))
	if err != nil {
		return err
	}
	te, err := readCSV(filepath.Join(dir, m.Name+".test.csv"))
	if err != nil {
		return err
	}
	cols := build(&m, tr, encode)
	fs := features(cols)
	d := &learn.Dataset{X: matrix(cols, tr, len(fs)), Features: fs, Y: targets(&m, tr)}
	switch m.Task {
	case "regression":
		d.Task = learn.Regression
	case "binary":
		d.Task, d.Classes = learn.Binary, m.Classes
	default:
		d.Task, d.Classes = learn.Multiclass, m.Classes
	}
	Xte := matrix(cols, te, len(fs))
	yte := targets(&m, te)

	l, err := learn.New(learner)
	if err != nil {
		return err
	}
	f := l.(*forest.Forest)
	f.NEstimators, f.MaxDepth, f.NJobs, f.Seed, f.MaxBins = trees, depth, jobs, seed, maxBins
	runtime.GC()
	if cpuprof != "" {
		pf, err := os.Create(cpuprof)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
	}
	t0, c0 := time.Now(), cpuSeconds()
	model, err := f.Fit(context.Background(), d)
	if err != nil {
		return err
	}
	fit, fitCPU := time.Since(t0).Seconds(), cpuSeconds()-c0
	if cpuprof != "" {
		pprof.StopCPUProfile()
	}
	t0 = time.Now()
	var scores []float64
	out := map[string]any{"system": "gyre_" + learner, "dataset": m.Name, "encode": encode, "features": len(fs),
		"trees": trees, "max_depth": depth, "jobs": jobs, "max_bins": maxBins}
	if d.Task.Classification() {
		proba, err := model.(learn.Prober).PredictProba(Xte)
		if err != nil {
			return err
		}
		k := len(d.Classes)
		if d.Task == learn.Binary {
			scores = make([]float64, Xte.Rows)
			for i := range scores {
				scores[i] = proba[i*k+1]
			}
			out["roc_auc"] = round(rocAUC(yte, scores))
		}
		ll, acc := 0.0, 0.0
		for i, y := range yte {
			p := proba[i*k+int(y)]
			ll -= math.Log(min(max(p, 1e-15), 1))
			best := 0
			for c := 1; c < k; c++ {
				if proba[i*k+c] > proba[i*k+best] {
					best = c
				}
			}
			if best == int(y) {
				acc++
			}
		}
		out["log_loss"] = round(ll / float64(len(yte)))
		out["accuracy"] = round(acc / float64(len(yte)))
	} else {
		pred, err := model.Predict(Xte)
		if err != nil {
			return err
		}
		se := 0.0
		for i, y := range yte {
			se += (pred[i] - y) * (pred[i] - y)
		}
		out["rmse"] = round(math.Sqrt(se / float64(len(yte))))
	}
	predTest := time.Since(t0).Seconds()
	// Batch prediction on the test rows tiled to ≥ 10,000 rows, as peers.py.
	reps := (10000 + Xte.Rows - 1) / Xte.Rows
	idx := make([]int, 0, reps*Xte.Rows)
	for r := 0; r < reps; r++ {
		for i := 0; i < Xte.Rows; i++ {
			idx = append(idx, i)
		}
	}
	big := Xte.Take(idx)
	if predProfile != "" {
		pf, err := os.Create(predProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		for r := 0; r < 5; r++ {
			_, _ = model.Predict(big)
		}
		pprof.StopCPUProfile()
	}
	t0, c0 = time.Now(), cpuSeconds()
	if pr, ok := model.(learn.Prober); ok {
		_, err = pr.PredictProba(big)
	} else {
		_, err = model.Predict(big)
	}
	if err != nil {
		return err
	}
	bigS, bigCPU := time.Since(t0).Seconds(), cpuSeconds()-c0
	fm := forest.Fitted(model)
	leaves := 0
	for _, t := range fm.Trees {
		leaves += t.NumLeaves()
	}
	out["fit_seconds"] = round(fit)
	out["fit_cpu_seconds"] = round(fitCPU)
	out["predict_rows_per_cpu_second"] = math.Round(float64(big.Rows) / bigCPU)
	out["predict_seconds_test"] = round(predTest)
	out["predict_rows_per_second"] = math.Round(float64(big.Rows) / bigS)
	out["mean_leaves"] = leaves / len(fm.Trees)
	j, _ := json.Marshal(out)
	fmt.Println(string(j))
	return nil
}

var (
	predProfile string
	maxBins     int
)

func round(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// cpuSeconds returns the user+system CPU time of the process so far: under
// a loaded machine it is steadier than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

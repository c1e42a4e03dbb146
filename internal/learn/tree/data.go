package tree

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// maxCategories bounds the category codes of a categorical feature.
const maxCategories = 1 << 20

// Data is a training set prepared for growing trees: every feature coded as
// small integers, shared read-only by all trees grown on it.
type Data struct {
	// N and P are the numbers of rows and features.
	N, P int
	// Codes holds the feature-major codes: Codes[f*N+i] for row i of feature f.
	// Code NBins[f] means missing.
	Codes []uint32
	// Codes8 holds a byte copy of the codes of features with fewer than 256
	// codes (nil for the others): denser in cache for the hot loops.
	Codes8 [][]uint8
	// NBins is the number of non-missing codes per feature.
	NBins []int
	// Categorical marks categorical features.
	Categorical []bool
	// Values maps codes of numeric features to the smallest value with that
	// code and Upper to the largest: the sorted distinct values (both the
	// same) when splitting exactly, bin edges when binned. Nil for
	// categorical features.
	Values [][]float64
	Upper  [][]float64
	// Task is the learning task; K the number of classes (0 for regression).
	Task learn.Task
	K    int
	// Y holds the targets (class index or value); Class the class indices.
	Y     []float64
	Class []int32
	// W holds the sample weights (all 1 when the data set has none).
	W []float64
	// Features describes the columns.
	Features []learn.Feature
}

// Prepare codes the data set d for exact tree growing, honouring its row
// view.
func Prepare(ctx context.Context, d *learn.Dataset) (*Data, error) { return PrepareBinned(ctx, d, 0) }

// PrepareBinned is Prepare with numeric features that have more than
// maxBins distinct values grouped into at most maxBins quantile bins
// (0: exact). Binning trades exact thresholds for speed on large data:
// split thresholds then fall between bins.
func PrepareBinned(ctx context.Context, d *learn.Dataset, maxBins int) (*Data, error) {
	if maxBins != 0 && (maxBins < 2 || maxBins > 1<<16) {
		return nil, fmt.Errorf("prepare tree data: max_bins is %d, want 0 (exact) or 2..65536", maxBins)
	}
	if err := d.Check(); err != nil {
		return nil, err
	}
	n, p := d.N(), d.X.Cols
	if p > maxFeatures {
		return nil, fmt.Errorf("prepare tree data: %d features, at most %d supported", p, maxFeatures)
	}
	td := &Data{N: n, P: p, Codes: make([]uint32, n*p), NBins: make([]int, p), Categorical: make([]bool, p),
		Values: make([][]float64, p), Upper: make([][]float64, p), Codes8: make([][]uint8, p), Task: d.Task, K: d.NumClasses(), Y: make([]float64, n), W: make([]float64, n), Features: d.Features}
	if d.Task.Classification() {
		td.Class = make([]int32, n)
	}
	for i := 0; i < n; i++ {
		if d.Y != nil {
			td.Y[i] = d.Target(i)
			if td.Class != nil {
				td.Class[i] = int32(td.Y[i])
			}
		}
		td.W[i] = d.W(i)
	}
	errs := make([]error, p)
	parallel.For(p, 0, func(f int) {
		if ctx.Err() != nil {
			errs[f] = ctx.Err()
			return
		}
		errs[f] = td.codeFeature(d, f, maxBins)
		if errs[f] == nil && td.NBins[f] < 255 {
			c8 := make([]uint8, n)
			for i, c := range td.Codes[f*n : (f+1)*n] {
				c8[i] = uint8(c)
			}
			td.Codes8[f] = c8
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("prepare tree data: %w", err)
		}
	}
	return td, nil
}

func (td *Data) codeFeature(d *learn.Dataset, f, maxBins int) error {
	n := td.N
	col := d.X.Col(f)
	codes := td.Codes[f*n : (f+1)*n]
	if f < len(d.Features) && d.Features[f].Categorical {
		td.Categorical[f] = true
		L := len(d.Features[f].Levels)
		for i := 0; i < n; i++ {
			v := col[d.Row(i)]
			if v >= 0 && v < maxCategories && int(v)+1 > L {
				L = int(v) + 1
			}
			if v >= maxCategories {
				return fmt.Errorf("feature %q row %d: category code %v exceeds %d", d.Features[f].Name, d.Row(i)+1, v, maxCategories)
			}
		}
		td.NBins[f] = L
		for i := 0; i < n; i++ {
			v := col[d.Row(i)]
			if math.IsNaN(v) || v < 0 {
				codes[i] = uint32(L)
			} else {
				codes[i] = uint32(v)
			}
		}
		return nil
	}
	type vi struct {
		v float64
		i int32
	}
	vals := make([]vi, 0, n)
	for i := 0; i < n; i++ {
		v := col[d.Row(i)]
		if math.IsInf(v, 0) {
			return fmt.Errorf("feature %q row %d: value %v is infinite", featName(d.Features, f), d.Row(i)+1, v)
		}
		if math.IsNaN(v) {
			continue
		}
		vals = append(vals, vi{v, int32(i)})
	}
	slices.SortFunc(vals, func(a, b vi) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return int(a.i - b.i)
	})
	var uniq []float64
	for k, x := range vals {
		if k == 0 || x.v != vals[k-1].v {
			uniq = append(uniq, x.v)
		}
		codes[x.i] = uint32(len(uniq) - 1)
	}
	upper := uniq
	if maxBins > 0 && len(uniq) > maxBins {
		// Quantile bins over the rows; equal values never straddle bins.
		per := float64(len(vals)) / float64(maxBins)
		uniq, upper = uniq[:0:0], nil
		for k, x := range vals {
			if k == 0 || (x.v != vals[k-1].v && float64(k) >= per*float64(len(uniq))) {
				uniq = append(uniq, x.v)
				upper = append(upper, x.v)
			}
			upper[len(upper)-1] = x.v
			codes[x.i] = uint32(len(uniq) - 1)
		}
	}
	td.Values[f] = uniq
	td.Upper[f] = upper
	td.NBins[f] = len(uniq)
	if len(vals) < n {
		miss := uint32(len(uniq))
		for i := 0; i < n; i++ {
			if math.IsNaN(col[d.Row(i)]) {
				codes[i] = miss
			}
		}
	}
	return nil
}

func featName(fs []learn.Feature, f int) string {
	if f < len(fs) {
		return fs[f].Name
	}
	return fmt.Sprintf("#%d", f+1)
}

package gbdt

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// binSampleRows is the number of rows sampled to place quantile bin
// boundaries (LightGBM's bin_construct_sample_cnt).
const binSampleRows = 200_000

// Binned is a design matrix quantised to uint8 bins, feature-major, one byte
// per cell. It covers every row of the matrix it was built from (so any row
// view of that matrix can reuse it); bin boundaries come from the rows of the
// data set passed to BinDataset. A Binned is read-only after construction and
// safe to share between concurrent fits.
type Binned struct {
	// X is the matrix the bins were computed from; Fit refuses a Binned built
	// from a different matrix.
	X *frame.Matrix
	// Rows and Cols are the dimensions of X.
	Rows, Cols int
	// MaxBins is the value-bin limit the matrix was built with.
	MaxBins int
	// Bins holds the bin of cell (i, j) at Bins[j*Rows+i].
	Bins []uint8
	// NumBins[j] is the number of value bins of feature j; bin NumBins[j]
	// holds missing values.
	NumBins []int
	// Bounds[j][b] is the inclusive upper bound of value bin b of numeric
	// feature j (the last is +Inf); nil for categorical features.
	Bounds [][]float64
	// Categorical marks features binned by category code.
	Categorical []bool
	// Lumped[j] reports that categorical feature j had more levels than
	// value bins: codes ≥ NumBins[j]-1 share the last bin, which never goes
	// left in a split.
	Lumped []bool
}

// BinDataset quantises d.X into at most maxBins value bins per feature
// (2..255), placing numeric bin boundaries at quantiles of the rows of d (its
// view, if any). The result covers every row of d.X and can be passed to
// Learner.Binned for any fit on d.X.
func BinDataset(d *learn.Dataset, maxBins int) (*Binned, error) {
	return binDataset(d, maxBins, 0)
}

// binDataset is BinDataset on at most threads goroutines (0 = GOMAXPROCS).
func binDataset(d *learn.Dataset, maxBins, threads int) (*Binned, error) {
	if d == nil || d.X == nil {
		return nil, errors.New("gbdt bin: no design matrix")
	}
	if maxBins < 2 || maxBins > 255 {
		return nil, fmt.Errorf("gbdt bin: max_bins is %d, want 2..255", maxBins)
	}
	X := d.X
	stream := X.Data == nil && d.Columns != nil
	if len(X.Data) != X.Rows*X.Cols && !stream {
		return nil, fmt.Errorf("gbdt bin: matrix holds %d values, want %d×%d", len(X.Data), X.Rows, X.Cols)
	}
	if len(d.Features) != X.Cols {
		return nil, fmt.Errorf("gbdt bin: %d feature descriptions for %d columns", len(d.Features), X.Cols)
	}
	n := d.N()
	if n == 0 {
		return nil, errors.New("gbdt bin: no rows")
	}
	b := &Binned{X: X, Rows: X.Rows, Cols: X.Cols, MaxBins: maxBins,
		Bins: make([]uint8, X.Rows*X.Cols), NumBins: make([]int, X.Cols),
		Bounds: make([][]float64, X.Cols), Categorical: make([]bool, X.Cols), Lumped: make([]bool, X.Cols)}
	// Deterministic, evenly spaced sample of data-set rows.
	var sample []int
	if n > binSampleRows {
		sample = make([]int, binSampleRows)
		for k := range sample {
			sample[k] = d.Row(int(int64(k) * int64(n) / binSampleRows))
		}
	} else {
		sample = make([]int, n)
		for k := range sample {
			sample[k] = d.Row(k)
		}
	}
	errs := make([]error, X.Cols)
	if !stream {
		parallelFor(X.Cols, threads, func(j int) {
			errs[j] = b.binFeature(j, X.Col(j), d.Features[j], sample, maxBins)
		})
	} else {
		// The matrix one column at a time: each goroutine encodes its
		// columns into one buffer of its own and bins them from there.
		parallelBlocks(X.Cols, threads, func(lo, hi int) {
			col := make([]float64, X.Rows)
			for j := lo; j < hi; j++ {
				if errs[j] = d.Columns(j, col); errs[j] == nil {
					errs[j] = b.binFeature(j, col, d.Features[j], sample, maxBins)
				}
			}
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// binFeature bins col, column j of the matrix, into the bins of feature
// j.
func (b *Binned) binFeature(j int, col []float64, f learn.Feature, sample []int, maxBins int) error {
	out := b.Bins[j*b.Rows : (j+1)*b.Rows]
	if f.Categorical {
		b.Categorical[j] = true
		levels := len(f.Levels)
		for _, v := range col {
			if v >= 0 && !math.IsNaN(v) {
				if math.IsInf(v, 1) || v != math.Trunc(v) || v > 1<<30 {
					return fmt.Errorf("gbdt bin: categorical column %d (%q) holds %v, want an integer category code", j+1, f.Name, v)
				}
				levels = max(levels, int(v)+1)
			}
		}
		nb := max(levels, 1)
		if nb > maxBins {
			nb = maxBins
			b.Lumped[j] = true
		}
		b.NumBins[j] = nb
		miss := uint8(nb)
		for i, v := range col {
			switch {
			case !(v >= 0):
				out[i] = miss
			case int(v) >= nb-1:
				out[i] = uint8(nb - 1)
			default:
				out[i] = uint8(v)
			}
		}
		return nil
	}
	vals := make([]float64, 0, len(sample))
	for _, r := range sample {
		if v := col[r]; !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	bounds := quantileBounds(vals, maxBins)
	b.Bounds[j] = bounds
	b.NumBins[j] = len(bounds)
	binColumn(out, col, bounds)
	return nil
}

// binColumn sets out[i] to the first bin whose upper bound is ≥ col[i]
// (bounds ascending, the last +Inf), or to len(bounds), the missing bin,
// for NaN. The search is branch-free: it compares order-preserving integer
// keys of the floats with borrow arithmetic, since bin indices of continuous
// values are unpredictable and a branching binary search mispredicts about
// half its steps.
func binColumn(out []uint8, col, bounds []float64) {
	var keyBuf [histBins]uint64
	keys := keyBuf[:len(bounds)]
	for m, b := range bounds {
		keys[m] = orderKey(b)
	}
	miss := uint8(len(bounds))
	out = out[:len(col)]
	for i, v := range col {
		if v != v {
			out[i] = miss
			continue
		}
		k := orderKey(v)
		base, n := 0, len(keys)
		for n > 1 {
			half := n >> 1
			// borrow is 1 when keys[base+half-1] < k.
			_, borrow := bits.Sub64(keys[base+half-1], k, 0)
			base += int(borrow) * half
			n -= half
		}
		_, borrow := bits.Sub64(keys[base], k, 0)
		out[i] = uint8(base + int(borrow))
	}
}

// orderKey maps a non-NaN float to an integer with the same order (-0 and
// +0 the same key, as they compare equal).
func orderKey(v float64) uint64 {
	b := math.Float64bits(v + 0) // -0 + 0 is +0
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}

// quantileBounds returns the inclusive upper bounds of at most maxBins bins
// over vals (sorted in place); the last bound is +Inf.
func quantileBounds(vals []float64, maxBins int) []float64 {
	if len(vals) == 0 {
		return []float64{math.Inf(1)}
	}
	slices.Sort(vals)
	// Distinct values and their counts.
	distinct := make([]float64, 0, 256)
	counts := make([]int, 0, 256)
	for i, v := range vals {
		if i == 0 || v != vals[i-1] {
			distinct = append(distinct, v)
			counts = append(counts, 0)
		}
		counts[len(counts)-1]++
	}
	var bounds []float64
	if len(distinct) <= maxBins {
		bounds = make([]float64, 0, len(distinct))
		for i := 0; i+1 < len(distinct); i++ {
			bounds = append(bounds, midpoint(distinct[i], distinct[i+1]))
		}
	} else {
		// Greedy equal-frequency bins over distinct values: close a bin once
		// it holds its share of the remaining rows.
		remaining := len(vals)
		binsLeft := maxBins
		acc := 0
		for i := 0; i+1 < len(distinct) && binsLeft > 1; i++ {
			acc += counts[i]
			target := float64(remaining) / float64(binsLeft)
			// Close before a very large next value if that is closer to target.
			if float64(acc) >= target || float64(acc+counts[i+1]) > 1.5*target && acc > 0 && float64(acc) >= 0.5*target {
				bounds = append(bounds, midpoint(distinct[i], distinct[i+1]))
				remaining -= acc
				acc = 0
				binsLeft--
			}
		}
	}
	return append(bounds, math.Inf(1))
}

func midpoint(a, b float64) float64 {
	m := a + (b-a)/2
	if m <= a || m >= b || math.IsInf(m, 0) {
		// a and b adjacent floats, or overflow: the bound must be ≥ a, < b.
		return a
	}
	return m
}

// parallelFor runs fn(i) for i in [0, n) on up to threads goroutines
// (0 = GOMAXPROCS), giving each a contiguous block of indices.
func parallelFor(n, threads int, fn func(i int)) {
	parallelBlocks(n, threads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	})
}

// parallelBlocks runs fn(lo, hi) over contiguous blocks of [0, n) on up to
// threads goroutines (0 = GOMAXPROCS), one block per goroutine.
func parallelBlocks(n, threads int, fn func(lo, hi int)) {
	if threads <= 0 {
		threads = defaultThreads()
	}
	if w := parallel.Workers(n, threads); w > 1 {
		trainGoroutines.Add(int64(w))
	}
	parallel.Blocks(n, threads, 1, fn)
}

package profile

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/gyre-ml/gyre/internal/frame"
)

// Options configures Compute. The zero value is usable.
type Options struct {
	// Target names the target column ("" for none).
	Target string
	// Bins is the number of histogram bins (default HistogramBins).
	Bins int
	// Seed makes sampling and sketches deterministic.
	Seed uint64
	// Workers bounds the goroutines (default GOMAXPROCS).
	Workers int
	// NoRelations skips pairwise relationships and scatter samples.
	NoRelations bool
	// Source is recorded in Profile.Source.
	Source string
}

// Compute profiles f. It fails only on a bad option (an unknown target) or a
// cancelled context; empty frames and all-missing columns give a profile with
// warnings.
func Compute(ctx context.Context, f *frame.Frame, opts Options) (*Profile, error) {
	if f == nil {
		return nil, fmt.Errorf("profile: nil frame")
	}
	if opts.Bins <= 0 {
		opts.Bins = HistogramBins
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	tIdx := -1
	if opts.Target != "" {
		tIdx = f.Index(opts.Target)
		if tIdx < 0 {
			return nil, fmt.Errorf("profile: target column %q not found (columns: %v)", opts.Target, f.Names())
		}
	}
	n := f.NumRows()
	p := &Profile{Version: FormatVersion, Source: opts.Source, Rows: n, Target: opts.Target, Columns: make([]Column, f.NumCols())}
	chunks := min(50, n)
	chunkRows := 1
	if chunks > 0 {
		chunkRows = (n + chunks - 1) / chunks
		chunks = (n + chunkRows - 1) / chunkRows
	}
	p.Missing = &MissingMatrix{ChunkRows: chunkRows, Share: make([][]float64, f.NumCols())}

	// Per-column statistics, in parallel.
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ci := range jobs {
				c := f.Col(ci)
				p.Columns[ci], p.Missing.Share[ci] = columnStats(c, n, chunkRows, chunks, opts.Bins, opts.Seed^hashString(c.Name()))
			}
		}()
	}
	var dup int
	wg.Add(1)
	go func() { defer wg.Done(); dup = duplicateRows(f) }()
	canceled := false
	for ci := 0; ci < f.NumCols(); ci++ {
		if ctx.Err() != nil {
			canceled = true
			break
		}
		jobs <- ci
	}
	close(jobs)
	wg.Wait()
	if canceled {
		return nil, fmt.Errorf("profile: %w", ctx.Err())
	}
	p.DuplicateRows = dup
	if n > 0 && (!opts.NoRelations || tIdx >= 0) {
		if err := relations(ctx, f, p, tIdx, opts.Seed, !opts.NoRelations); err != nil {
			return nil, err
		}
	}
	p.Warnings = warnings(p)
	return p, nil
}

// numericGetter returns an accessor for numeric-like columns (float, int,
// time in Unix seconds); NaN counts as missing.
func numericGetter(c frame.Column) (func(i int) (float64, bool), bool) {
	switch c := c.(type) {
	case *frame.Float:
		if c.Valid == nil {
			return func(i int) (float64, bool) { v := c.Values[i]; return v, v == v }, true
		}
		return func(i int) (float64, bool) { v := c.Values[i]; return v, v == v && c.Valid.Valid(i) }, true
	case *frame.Int:
		if c.Valid == nil {
			return func(i int) (float64, bool) { return float64(c.Values[i]), true }, true
		}
		return func(i int) (float64, bool) { return float64(c.Values[i]), c.Valid.Valid(i) }, true
	case *frame.Time:
		return func(i int) (float64, bool) { return float64(c.Values[i]) / 1e9, c.Valid.Valid(i) }, true
	}
	return nil, false
}

// NumericValues returns a numeric-like column's non-missing values as
// float64 (time as Unix seconds), and false for other kinds.
func NumericValues(c frame.Column) ([]float64, bool) {
	get, ok := numericGetter(c)
	if !ok {
		return nil, false
	}
	out := make([]float64, 0, c.Len())
	for i := 0; i < c.Len(); i++ {
		if v, ok := get(i); ok {
			out = append(out, v)
		}
	}
	return out, true
}

// CategoryCounts returns the value counts of a categorical, string or bool
// column (missing values excluded), and false for other kinds.
func CategoryCounts(c frame.Column) (map[string]int, bool) {
	m := map[string]int{}
	switch c := c.(type) {
	case *frame.Categorical:
		counts := make([]int, len(c.Levels))
		for _, code := range c.Codes {
			if code >= 0 {
				counts[code]++
			}
		}
		for i, k := range counts {
			if k > 0 {
				m[c.Levels[i]] += k
			}
		}
	case *frame.String, *frame.Bool:
		for i := 0; i < c.Len(); i++ {
			if !c.IsNull(i) {
				m[c.Format(i)]++
			}
		}
	default:
		return nil, false
	}
	return m, true
}

func columnStats(c frame.Column, n, chunkRows, chunks, bins int, seed uint64) (Column, []float64) {
	col := Column{Name: c.Name(), Kind: c.Kind()}
	missChunk := make([]int, chunks)
	if get, ok := numericGetter(c); ok {
		numericStats(&col, get, n, chunkRows, missChunk, bins, seed)
	} else {
		categoryStats(&col, c, n, chunkRows, missChunk)
	}
	col.Missing = n - col.Count
	if n > 0 {
		col.MissingShare = float64(col.Missing) / float64(n)
	}
	share := make([]float64, chunks)
	for k := range share {
		rows := min(chunkRows, n-k*chunkRows)
		if rows > 0 {
			share[k] = float64(missChunk[k]) / float64(rows)
		}
	}
	col.Constant = col.Count > 0 && col.Distinct <= 1
	if col.Count >= 20 && !col.DistinctApprox && col.Distinct == col.Count && col.Missing == 0 {
		switch c.Kind() {
		case frame.KindInt, frame.KindString, frame.KindCategorical:
			col.LikelyID = true
		}
	}
	if (c.Kind() == frame.KindCategorical || c.Kind() == frame.KindString) && col.Distinct > 50 && !col.LikelyID {
		col.HighCardinality = true
	}
	return col, share
}

func numericStats(col *Column, get func(int) (float64, bool), n, chunkRows int, missChunk []int, bins int, seed uint64) {
	sk := newKLL(seed)
	var h hll
	freq := map[uint64]int32{}
	exact := true
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	sample := make([]float64, 0, min(SampleSize, n))
	count := 0
	var sum, sumsq float64
	lo, hi := math.Inf(1), math.Inf(-1)
	// The quantile sketch takes every value up to SketchRows values, else
	// one drawn at random from each block of step values (see SketchRows).
	valid := n
	if n > SketchRows {
		valid = 0
		for i := 0; i < n; i++ {
			if _, ok := get(i); ok {
				valid++
			}
		}
	}
	step := max(1, (valid+SketchRows-1)/SketchRows)
	srng := rand.New(rand.NewPCG(seed, 0x736b))
	pick := 0
	if step > 1 {
		pick = srng.IntN(step)
	}
	for i := 0; i < n; i++ {
		v, ok := get(i)
		if !ok {
			missChunk[i/chunkRows]++
			continue
		}
		take := step == 1 || count == pick
		if take && step > 1 {
			if b := count - count%step + step; b < valid {
				pick = b + srng.IntN(min(step, valid-b))
			}
		}
		count++
		sum += v
		sumsq += v * v
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
		if take {
			sk.add(v)
		}
		key := math.Float64bits(v + 0)
		h.add(mix64(key))
		if exact {
			freq[key]++
			if len(freq) > DistinctExactLimit {
				exact = false
			}
		}
		if len(sample) < SampleSize {
			sample = append(sample, v)
		} else if j := rng.IntN(count); j < SampleSize {
			sample[j] = v
		}
	}
	col.Count = count
	setDistinct(col, freq, exact, &h)
	if count == 0 {
		return
	}
	mean := sum / float64(count)
	qs := sk.quantiles(QuantileLevels)
	grid := make([]float64, GridSize)
	for i := range grid {
		grid[i] = float64(i) / float64(GridSize-1)
	}
	grid = sk.quantiles(grid)
	grid[0], grid[GridSize-1] = lo, hi
	num := &Numeric{Mean: mean, Min: lo, Max: hi, Quantiles: qs, QuantilesExact: sk.exact && step == 1, QuantileGrid: grid}
	edges := histogramEdges(col.Kind, lo, hi, bins)
	num.Histogram = Histogram{Edges: edges, Counts: make([]int, len(edges)-1)}
	q1, q3 := qs[2], qs[4]
	iqr := q3 - q1
	fenceLo, fenceHi := q1-1.5*iqr, q3+1.5*iqr
	approxStd := 0.0
	if count > 1 {
		approxStd = math.Sqrt(math.Max(0, (sumsq-float64(count)*mean*mean)/float64(count-1)))
	}
	var m2, m3 float64
	for i := 0; i < n; i++ {
		v, ok := get(i)
		if !ok {
			continue
		}
		d := v - mean
		d2 := d * d
		m2 += d2
		m3 += d2 * d
		num.Histogram.Counts[num.Histogram.Bin(v)]++
		if v == 0 {
			num.Zeros++
		}
		if v < fenceLo || v > fenceHi {
			num.OutliersIQR++
		}
		if approxStd > 0 && math.Abs(d) > 3*approxStd {
			num.OutliersZ++
		}
	}
	fc := float64(count)
	if count > 1 {
		num.Std = math.Sqrt(m2 / (fc - 1))
	}
	num.PopStd = math.Sqrt(m2 / fc)
	if count > 2 && m2 > 0 {
		g1 := (m3 / fc) / math.Pow(m2/fc, 1.5)
		num.Skewness = g1 * math.Sqrt(fc*(fc-1)) / (fc - 2)
	}
	slices.Sort(sample)
	num.Sample = sample
	num.SampleComplete = count <= SampleSize
	col.Numeric = num
}

// setDistinct records a column's distinct count: exact from freq while it
// stayed under DistinctExactLimit, else the HyperLogLog estimate h.
func setDistinct(col *Column, freq map[uint64]int32, exact bool, h *hll) {
	if !exact {
		col.Distinct = int(math.Round(h.estimate()))
		col.DistinctApprox = true
		return
	}
	col.Distinct = len(freq)
	top := int32(0)
	for _, k := range freq {
		top = max(top, k)
	}
	col.NearConstant = col.Count > 0 && len(freq) > 1 && float64(top) >= 0.95*float64(col.Count)
}

// histogramEdges lays out a numeric histogram over [lo, hi]: one bin per
// value for integer columns with at most bins distinct values in range,
// else bins equal-width bins.
func histogramEdges(kind frame.Kind, lo, hi float64, bins int) []float64 {
	switch {
	case hi == lo:
		return []float64{lo, hi}
	case kind == frame.KindInt && hi-lo+1 <= float64(bins):
		nb := int(hi-lo) + 1
		edges := make([]float64, nb+1)
		for i := range edges {
			edges[i] = lo - 0.5 + float64(i)
		}
		return edges
	default:
		edges := make([]float64, bins+1)
		for i := range edges {
			edges[i] = lo + (hi-lo)*float64(i)/float64(bins)
		}
		edges[bins] = hi
		return edges
	}
}

func categoryStats(col *Column, c frame.Column, n, chunkRows int, missChunk []int) {
	counts := map[string]int{}
	other := 0
	var h hll
	full := false
	switch c := c.(type) {
	case *frame.Categorical:
		byCode := make([]int, len(c.Levels))
		for i, code := range c.Codes {
			if code < 0 {
				missChunk[i/chunkRows]++
				continue
			}
			byCode[code]++
		}
		for k, v := range byCode {
			if v > 0 {
				counts[c.Levels[k]] += v
			}
		}
	case *frame.Bool:
		for i, v := range c.Values {
			if c.IsNull(i) {
				missChunk[i/chunkRows]++
				continue
			}
			counts[strconv.FormatBool(v)]++
		}
	default:
		for i := 0; i < n; i++ {
			if c.IsNull(i) {
				missChunk[i/chunkRows]++
				continue
			}
			s := c.Format(i)
			h.add(hashString(s))
			if _, ok := counts[s]; ok || len(counts) < DistinctExactLimit {
				counts[s]++
			} else {
				full = true
				other++
			}
		}
	}
	list := make([]CategoryCount, 0, len(counts))
	total := other
	for v, k := range counts {
		list = append(list, CategoryCount{v, k})
		total += k
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Count != list[j].Count {
			return list[i].Count > list[j].Count
		}
		return list[i].Value < list[j].Value
	})
	col.Count = total
	col.Distinct = len(list)
	if full {
		col.Distinct = max(len(list), int(math.Round(h.estimate())))
		col.DistinctApprox = true
	}
	cat := &Categories{}
	for _, cc := range list {
		if total > 0 && float64(cc.Count) < 0.01*float64(total) {
			cat.Rare++
			if len(cat.RareValues) < 20 {
				cat.RareValues = append(cat.RareValues, cc.Value)
			}
		}
	}
	if len(list) > MaxCategories {
		for _, cc := range list[MaxCategories:] {
			other += cc.Count
		}
		list = list[:MaxCategories]
	}
	cat.Counts, cat.Other = list, other
	col.Categories = cat
	if len(list) > 1 && total > 0 {
		col.NearConstant = float64(list[0].Count) >= 0.95*float64(total)
	}
}

// duplicateRows counts rows equal to an earlier row, comparing 64-bit row
// hashes.
func duplicateRows(f *frame.Frame) int {
	n := f.NumRows()
	if n < 2 || f.NumCols() == 0 {
		return 0
	}
	hs := make([]uint64, n)
	for ci := 0; ci < f.NumCols(); ci++ {
		c := f.Col(ci)
		salt := uint64(ci+1) * 0x9e3779b97f4a7c15
		switch c := c.(type) {
		case *frame.Float:
			for i, v := range c.Values {
				k := math.Float64bits(v + 0)
				if c.IsNull(i) || v != v {
					k = 0x7ff8dead
				}
				hs[i] = mix64(hs[i] ^ k ^ salt)
			}
		case *frame.Int:
			for i, v := range c.Values {
				k := uint64(v)
				if c.IsNull(i) {
					k = 0x7ff8dead
				}
				hs[i] = mix64(hs[i] ^ k ^ salt)
			}
		case *frame.Categorical:
			for i, v := range c.Codes {
				hs[i] = mix64(hs[i] ^ uint64(int64(v)) ^ salt)
			}
		default:
			for i := 0; i < n; i++ {
				k := uint64(0x7ff8dead)
				if !c.IsNull(i) {
					k = hashString(c.Format(i))
				}
				hs[i] = mix64(hs[i] ^ k ^ salt)
			}
		}
	}
	slices.Sort(hs)
	dup := 0
	for i := 1; i < n; i++ {
		if hs[i] == hs[i-1] {
			dup++
		}
	}
	return dup
}

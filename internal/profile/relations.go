package profile

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"

	"github.com/gyre-ml/gyre/internal/frame"
)

// maxRelationColumns bounds the columns of each relationship matrix.
const maxRelationColumns = 40

// maxGroups bounds the category groups used for Cramér's V, η and target
// summaries; rarer categories are pooled as "(other)".
const maxGroups = 30

// sampleRows picks at most RelationRows row indices, sorted, seeded.
func sampleRows(n int, seed uint64) []int {
	if n <= RelationRows {
		rows := make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		return rows
	}
	rng := rand.New(rand.NewPCG(seed, 0x7e1a))
	rows := rng.Perm(n)[:RelationRows]
	slices.Sort(rows)
	return rows
}

// groupCodes maps a categorical-like column to group codes (the top
// maxGroups-1 categories, then "(other)"), -1 for missing.
func groupCodes(c frame.Column, col *Column, rows []int) ([]int32, []string) {
	cats := col.Categories.Counts
	names := make([]string, 0, maxGroups)
	index := map[string]int32{}
	for i, cc := range cats {
		if i == maxGroups-1 && len(cats) > maxGroups {
			break
		}
		index[cc.Value] = int32(len(names))
		names = append(names, cc.Value)
	}
	other := int32(-1)
	out := make([]int32, len(rows))
	for k, r := range rows {
		if c.IsNull(r) {
			out[k] = -1
			continue
		}
		g, ok := index[c.Format(r)]
		if !ok {
			if other < 0 {
				other = int32(len(names))
				names = append(names, "(other)")
			}
			g = other
		}
		out[k] = g
	}
	return out, names
}

// binCodes maps a numeric sample to quantile bins (up to 10), -1 for missing.
func binCodes(x []float64, num *Numeric) ([]int32, []string) {
	var edges []float64
	for i := 0; i <= 10; i++ {
		e := num.Quantile(float64(i) / 10)
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	if len(edges) < 2 {
		edges = []float64{num.Min, num.Max}
	}
	nb := len(edges) - 1
	names := make([]string, nb)
	for i := range names {
		names[i] = fmt.Sprintf("%s–%s", fmtNum(edges[i]), fmtNum(edges[i+1]))
	}
	out := make([]int32, len(x))
	inner := edges[1:nb]
	for k, v := range x {
		if math.IsNaN(v) {
			out[k] = -1
			continue
		}
		out[k] = int32(sort.SearchFloat64s(inner, v))
		if out[k] < int32(nb) && out[k] < int32(len(inner)) && inner[out[k]] == v {
			out[k]++
		}
	}
	return out, names
}

// fmtNum renders a bin edge compactly: 4 significant digits, k/M/G
// suffixes for large magnitudes.
func fmtNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 3, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func relations(ctx context.Context, f *frame.Frame, p *Profile, tIdx int, seed uint64, full bool) error {
	rows := sampleRows(f.NumRows(), seed)
	type numCol struct {
		idx  int
		x    []float64
		miss bool
	}
	var nums []numCol
	var cats []int
	for ci := range p.Columns {
		col := &p.Columns[ci]
		if col.Count == 0 || col.Constant || col.LikelyID {
			continue
		}
		if col.Numeric != nil && len(nums) < maxRelationColumns {
			get, _ := numericGetter(f.Col(ci))
			x := make([]float64, len(rows))
			miss := false
			for k, r := range rows {
				v, ok := get(r)
				if !ok {
					v, miss = math.NaN(), true
				}
				x[k] = v
			}
			nums = append(nums, numCol{ci, x, miss})
		} else if col.Categories != nil && len(cats) < maxRelationColumns && col.Distinct <= 1000 {
			cats = append(cats, ci)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("profile: %w", ctx.Err())
	}
	catCodes := make([][]int32, len(cats))
	catNames := make([][]string, len(cats))
	for k, ci := range cats {
		catCodes[k], catNames[k] = groupCodes(f.Col(ci), &p.Columns[ci], rows)
	}
	if full {
		r := &Relations{SampleRows: len(rows)}
		ranks := make([][]float64, len(nums))
		for i, nc := range nums {
			r.Numeric = append(r.Numeric, p.Columns[nc.idx].Name)
			if !nc.miss {
				ranks[i] = rank(nc.x)
			}
		}
		r.Pearson = square(len(nums))
		r.Spearman = square(len(nums))
		for i := range nums {
			r.Pearson[i][i], r.Spearman[i][i] = 1, 1
			for j := i + 1; j < len(nums); j++ {
				pc := Pearson(nums[i].x, nums[j].x)
				var sp float64
				if ranks[i] != nil && ranks[j] != nil {
					sp = Pearson(ranks[i], ranks[j])
				} else {
					sp = Spearman(nums[i].x, nums[j].x)
				}
				r.Pearson[i][j], r.Pearson[j][i] = Float(pc), Float(pc)
				r.Spearman[i][j], r.Spearman[j][i] = Float(sp), Float(sp)
			}
			if ctx.Err() != nil {
				return fmt.Errorf("profile: %w", ctx.Err())
			}
		}
		r.CramersV = square(len(cats))
		for i, ci := range cats {
			r.Categorical = append(r.Categorical, p.Columns[ci].Name)
			r.CramersV[i][i] = 1
			for j := i + 1; j < len(cats); j++ {
				v := Float(CramersV(catCodes[i], catCodes[j]))
				r.CramersV[i][j], r.CramersV[j][i] = v, v
			}
		}
		r.CorrelationRatio = make([][]Float, len(nums))
		for i, nc := range nums {
			r.CorrelationRatio[i] = make([]Float, len(cats))
			for j := range cats {
				r.CorrelationRatio[i][j] = Float(CorrelationRatio(nc.x, catCodes[j]))
			}
		}
		p.Relations = r
		p.Scatter = scatter(r, nums2x(nums, func(n numCol) []float64 { return n.x }))
	}
	if tIdx >= 0 {
		targetRelations(f, p, tIdx, rows, seed)
	}
	return nil
}

func nums2x[T any](xs []T, f func(T) []float64) [][]float64 {
	out := make([][]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func square(n int) [][]Float {
	m := make([][]Float, n)
	for i := range m {
		m[i] = make([]Float, n)
	}
	return m
}

// scatter samples points of the three most correlated numeric pairs.
func scatter(r *Relations, xs [][]float64) []ScatterSample {
	type pair struct {
		i, j int
		c    float64
	}
	var pairs []pair
	for i := range r.Numeric {
		for j := i + 1; j < len(r.Numeric); j++ {
			c := float64(r.Pearson[i][j])
			if !math.IsNaN(c) {
				pairs = append(pairs, pair{i, j, c})
			}
		}
	}
	sort.SliceStable(pairs, func(a, b int) bool { return math.Abs(pairs[a].c) > math.Abs(pairs[b].c) })
	var out []ScatterSample
	for _, pr := range pairs[:min(3, len(pairs))] {
		x, y := xs[pr.i], xs[pr.j]
		step := max(1, len(x)/1000)
		s := ScatterSample{X: r.Numeric[pr.i], Y: r.Numeric[pr.j], Pearson: pr.c}
		for k := 0; k < len(x) && len(s.Points) < 1000; k += step {
			if !math.IsNaN(x[k]) && !math.IsNaN(y[k]) {
				s.Points = append(s.Points, [2]float64{x[k], y[k]})
			}
		}
		out = append(out, s)
	}
	return out
}

func targetRelations(f *frame.Frame, p *Profile, tIdx int, rows []int, seed uint64) {
	tcol := &p.Columns[tIdx]
	ts := &TargetSummary{Name: tcol.Name}
	p.TargetSummary = ts
	if tcol.Count == 0 {
		return
	}
	var tCodes []int32
	var tNames []string
	var tVals []float64
	classification := tcol.Categories != nil || (tcol.Kind == frame.KindInt && tcol.Distinct <= 10 && !tcol.DistinctApprox)
	ts.Classification = classification
	get, isNum := numericGetter(f.Col(tIdx))
	if isNum {
		tVals = make([]float64, len(rows))
		for k, r := range rows {
			v, ok := get(r)
			if !ok {
				v = math.NaN()
			}
			tVals[k] = v
		}
	}
	switch {
	case tcol.Categories != nil:
		tCodes, tNames = groupCodes(f.Col(tIdx), tcol, rows)
		for _, cc := range tcol.Categories.Counts {
			ts.Classes = append(ts.Classes, cc.Value)
			ts.ClassCounts = append(ts.ClassCounts, cc.Count)
		}
	case classification:
		// Integer classes: one group per distinct value, ascending.
		vals := map[float64]int{}
		for _, v := range tVals {
			if !math.IsNaN(v) {
				vals[v]++
			}
		}
		keys := make([]float64, 0, len(vals))
		for v := range vals {
			keys = append(keys, v)
		}
		slices.Sort(keys)
		idx := map[float64]int32{}
		for i, v := range keys {
			idx[v] = int32(i)
			tNames = append(tNames, fmtNum(v))
		}
		tCodes = make([]int32, len(tVals))
		for k, v := range tVals {
			if math.IsNaN(v) {
				tCodes[k] = -1
			} else {
				tCodes[k] = idx[v]
			}
		}
		all := map[float64]int{}
		for i := 0; i < f.NumRows(); i++ {
			if v, ok := get(i); ok {
				all[v]++
			}
		}
		for i, v := range keys {
			ts.Classes = append(ts.Classes, tNames[i])
			ts.ClassCounts = append(ts.ClassCounts, all[v])
		}
	default:
		h := tcol.Numeric.Histogram
		ts.Histogram = &h
		tCodes, tNames = binCodes(tVals, tcol.Numeric)
	}
	hT := entropy(tCodes)
	for ci := range p.Columns {
		if ci == tIdx {
			continue
		}
		col := &p.Columns[ci]
		if col.Count == 0 {
			continue
		}
		ft := &FeatureTarget{}
		var codes []int32
		var x []float64
		if col.Numeric != nil {
			g, _ := numericGetter(f.Col(ci))
			x = make([]float64, len(rows))
			for k, r := range rows {
				v, ok := g(r)
				if !ok {
					v = math.NaN()
				}
				x[k] = v
			}
			codes, ft.Groups = binCodes(x, col.Numeric)
		} else {
			codes, ft.Groups = groupCodes(f.Col(ci), col, rows)
		}
		ft.MutualInformation = MutualInformation(codes, tCodes)
		switch {
		case col.Numeric != nil && !classification:
			ft.Association, ft.AssociationMethod = Float(math.Abs(Pearson(x, tVals))), "abs_pearson"
		case col.Numeric != nil:
			ft.Association, ft.AssociationMethod = Float(CorrelationRatio(x, tCodes)), "correlation_ratio"
		case classification:
			ft.Association, ft.AssociationMethod = Float(CramersV(codes, tCodes)), "cramers_v"
		default:
			ft.Association, ft.AssociationMethod = Float(CorrelationRatio(tVals, codes)), "correlation_ratio"
		}
		if classification {
			ft.ClassCounts = make([][]int, len(ft.Groups))
			for g := range ft.ClassCounts {
				ft.ClassCounts[g] = make([]int, len(tNames))
			}
			for k, g := range codes {
				if g >= 0 && tCodes[k] >= 0 {
					ft.ClassCounts[g][tCodes[k]]++
				}
			}
		} else {
			sum := make([]float64, len(ft.Groups))
			cnt := make([]int, len(ft.Groups))
			for k, g := range codes {
				if g >= 0 && !math.IsNaN(tVals[k]) {
					sum[g] += tVals[k]
					cnt[g]++
				}
			}
			ft.Mean = make([]Float, len(sum))
			for g := range sum {
				ft.Mean[g] = Float(sum[g] / float64(cnt[g]))
			}
		}
		if hT > 0 && ft.MutualInformation/hT >= 0.9 || float64(ft.Association) >= 0.95 {
			p.Warnings = append(p.Warnings, Warning{Kind: "leakage", Column: col.Name, Severity: Warn,
				Message: fmt.Sprintf("%s almost determines the target %s (%s %.3f, mutual information %.3f of %.3f nats): a leakage suspect", col.Name, tcol.Name, ft.AssociationMethod, float64(ft.Association), ft.MutualInformation, hT)})
		}
		col.Target = ft
	}
}

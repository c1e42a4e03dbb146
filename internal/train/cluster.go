package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
)

// NewClustering prepares a clustering problem on f: every column is a
// feature, less the identifier and free-text columns (Exclusions, with
// co's overrides; a recipe in co is fitted first, without a target).
func NewClustering(f *frame.Frame, co ProblemOptions) (*Problem, error) {
	if f.NumRows() < 2 {
		return nil, fmt.Errorf("clustering needs at least 2 rows, got %d", f.NumRows())
	}
	p := &Problem{Task: learn.Clustering}
	if co.Recipe != nil {
		rc := *co.Recipe
		rc.Target = ""
		fp, out, err := rc.Fit(f)
		if err != nil {
			return nil, fmt.Errorf("recipe: %w", err)
		}
		p.Recipe, p.Raw, f = fp, f, out
	} else {
		var err error
		if f, err = f.Select(f.Names()...); err != nil { // our own roles
			return nil, err
		}
	}
	if err := p.excludeColumns(f, co); err != nil {
		return nil, err
	}
	if !hasUsableFeature(f) {
		return nil, fmt.Errorf("no usable feature columns to cluster: every column is constant, missing in every row, or an identifier")
	}
	p.Frame = f
	if n := f.NumRows(); n < 30 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("only %d rows: clusters found in so few rows are unlikely to be stable", n))
	}
	return p, nil
}

// silhouetteRows caps the rows the silhouette is computed on (it costs
// n² distances): a seeded sample above it.
const silhouetteRows = 2000

// ClusterScores scores a clustering bundle on f: the silhouette of its
// clusters in the member's standardised feature space (on a seeded sample
// of at most 2,000 rows), and the share of rows in every cluster.
func ClusterScores(b *bundle.Bundle, f *frame.Frame) (Scores, error) {
	pred, err := b.Predict(f)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	raw, err := b.Raw(f)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	X, _, err := b.Members[0].Prep.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	n := X.Rows
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	if n > silhouetteRows {
		rng := rand.New(rand.NewPCG(1, 2))
		rng.Shuffle(n, func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		rows = rows[:silhouetteRows]
		sort.Ints(rows)
	}
	dim := X.Cols
	pts := make([]float64, len(rows)*dim)
	labels := make([]float64, len(rows))
	for j := range dim {
		col := X.Col(j)
		var mean, sd float64
		for _, r := range rows {
			mean += col[r]
		}
		mean /= float64(len(rows))
		for _, r := range rows {
			sd += (col[r] - mean) * (col[r] - mean)
		}
		sd = math.Sqrt(sd / float64(len(rows)))
		if sd == 0 {
			sd = 1
		}
		for i, r := range rows {
			v := (col[r] - mean) / sd
			if math.IsNaN(v) {
				v = 0 // a missing value at the mean
			}
			pts[i*dim+j] = v
		}
	}
	for i, r := range rows {
		labels[i] = pred.Values[r]
	}
	s := Scores{}
	if v, err := metric.Silhouette(pts, dim, labels); err == nil && !math.IsNaN(v) {
		s["silhouette"] = v
	}
	counts := map[int]int{}
	for _, v := range pred.Values {
		counts[int(v)]++
	}
	s["clusters"] = float64(len(counts))
	largest := 0
	for _, c := range counts {
		largest = max(largest, c)
	}
	s["largest_cluster_share"] = float64(largest) / float64(len(pred.Values))
	return s, nil
}

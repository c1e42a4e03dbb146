package bundle

import (
	"math"

	"github.com/gyre-ml/gyre/internal/learn"
)

// Importance returns feature importance from the first member whose model
// reports it (learn.Importancer), keyed by design-matrix column name, and
// that member's learner; nil when no member reports it.
func (b *Bundle) Importance() (map[string]float64, string) {
	for _, m := range b.Members {
		imp, ok := m.Model.(learn.Importancer)
		if !ok || m.Prep == nil {
			continue
		}
		vals := imp.Importance()
		feats := m.Prep.Features()
		if len(vals) != len(feats) {
			continue
		}
		out := make(map[string]float64, len(vals))
		for i, f := range feats {
			if !math.IsNaN(vals[i]) {
				out[f.Name] = vals[i]
			}
		}
		return out, m.Info.Learner
	}
	return nil, ""
}

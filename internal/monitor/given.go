package monitor

import (
	"context"
	"math"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/profile"
)

// CurrentOf is the current data of a frame given by the user (not read
// from the prediction log): its rows, and their labels when the frame
// holds the bundle's target column.
func CurrentOf(b *bundle.Bundle, f *frame.Frame) *Current {
	cur := &Current{Frame: f}
	if f.Index(b.Manifest.Target) >= 0 {
		cur.Labels = EncodeLabels(b, f)
	}
	return cur
}

// EncodeLabels encodes a frame's target column as the bundle encodes it:
// values, or class indices (NaN when missing or unknown).
func EncodeLabels(b *bundle.Bundle, f *frame.Frame) []float64 {
	c, _ := f.Column(b.Manifest.Target)
	n := f.NumRows()
	out := make([]float64, n)
	idx := map[string]int{}
	for i, name := range b.Manifest.Classes {
		idx[name] = i
	}
	for i := 0; i < n; i++ {
		out[i] = math.NaN()
		if c.IsNull(i) {
			continue
		}
		if len(b.Manifest.Classes) == 0 {
			if v, ok := frame.Value(c, i); ok {
				out[i] = v
			}
			continue
		}
		if k, ok := idx[c.Format(i)]; ok {
			out[i] = float64(k)
		}
	}
	return out
}

// ReferenceOf profiles reference data given instead of the bundle's
// stored profile (named source in the report): the bundle's target is
// profiled as the target when the frame has it.
func ReferenceOf(ctx context.Context, b *bundle.Bundle, f *frame.Frame, source string) (*profile.Profile, error) {
	target := b.Manifest.Target
	if f.Index(target) < 0 {
		target = ""
	}
	return profile.Compute(ctx, f, profile.Options{Target: target, NoRelations: true, Seed: 1, Source: source})
}

// AlertKinds lists the kinds of the report's alerts, in order.
func (r *Report) AlertKinds() []string {
	kinds := make([]string, len(r.Alerts))
	for i, a := range r.Alerts {
		kinds[i] = a.Kind
	}
	return kinds
}

// WriteHTML writes the report's HTML page to path (through a temporary
// file renamed into place).
func (r *Report) WriteHTML(path string) error { return r.Page().WriteFile(path) }

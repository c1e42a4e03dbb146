package gbdt

import (
	"fmt"
	"math"
	"sort"
)

// Objective names.
const (
	ObjSquared  = "squared"
	ObjAbsolute = "absolute"
	ObjHuber    = "huber"
	ObjPoisson  = "poisson"
	ObjBinary   = "binary"
	ObjSoftmax  = "softmax"
)

// gpair is a gradient/hessian pair, packed so histogram building reads one
// 8-byte value per row.
type gpair struct{ g, h float32 }

// poissonMaxDelta is LightGBM's poisson_max_delta_step safeguard.
const poissonMaxDelta = 0.7

// objective computes gradients and losses from raw scores.
type objective struct {
	name  string
	k     int // outputs per row
	delta float64
}

// baseScore returns the initial raw score(s) from the training targets.
func (o *objective) baseScore(y, w []float64, rows []int32) ([]float64, error) {
	sw := 0.0
	for _, r := range rows {
		sw += wt(w, r)
	}
	if sw <= 0 {
		return nil, fmt.Errorf("training rows have zero total weight")
	}
	switch o.name {
	case ObjSquared:
		s := 0.0
		for _, r := range rows {
			s += wt(w, r) * y[r]
		}
		return []float64{s / sw}, nil
	case ObjAbsolute, ObjHuber:
		vals := make([]float64, len(rows))
		ws := make([]float64, len(rows))
		for k, r := range rows {
			vals[k], ws[k] = y[r], wt(w, r)
		}
		return []float64{weightedMedian(vals, ws)}, nil
	case ObjPoisson:
		s := 0.0
		for _, r := range rows {
			if y[r] < 0 {
				return nil, fmt.Errorf("poisson objective needs non-negative targets, row %d has %v", r+1, y[r])
			}
			s += wt(w, r) * y[r]
		}
		m := s / sw
		if m <= 0 {
			return nil, fmt.Errorf("poisson objective needs a positive mean target, have %v", m)
		}
		return []float64{math.Log(m)}, nil
	case ObjBinary:
		s := 0.0
		for _, r := range rows {
			s += wt(w, r) * y[r]
		}
		p := clamp(s/sw, 1e-15, 1-1e-15)
		return []float64{math.Log(p / (1 - p))}, nil
	case ObjSoftmax:
		cnt := make([]float64, o.k)
		for _, r := range rows {
			cnt[int(y[r])] += wt(w, r)
		}
		out := make([]float64, o.k)
		for c := range out {
			out[c] = math.Log(max(cnt[c]/sw, 1e-15))
		}
		// Centre the log priors (softmax is shift-invariant).
		m := 0.0
		for _, v := range out {
			m += v
		}
		m /= float64(o.k)
		for c := range out {
			out[c] -= m
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown objective %q", o.name)
}

func wt(w []float64, r int32) float64 {
	if w == nil {
		return 1
	}
	return w[r]
}

func clamp(v, lo, hi float64) float64 { return min(max(v, lo), hi) }

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// gradients fills gp (class-major, k×n over matrix rows) for the rows in
// [lo, hi) of rows, from scores (same layout).
func (o *objective) gradients(gp []gpair, score, y, w []float64, rows []int32, n int) {
	switch o.name {
	case ObjSquared:
		for _, r := range rows {
			ww := wt(w, r)
			gp[r] = gpair{float32((score[r] - y[r]) * ww), float32(ww)}
		}
	case ObjAbsolute:
		for _, r := range rows {
			ww := wt(w, r)
			d := score[r] - y[r]
			g := 0.0
			if d > 0 {
				g = ww
			} else if d < 0 {
				g = -ww
			}
			gp[r] = gpair{float32(g), float32(ww)}
		}
	case ObjHuber:
		for _, r := range rows {
			ww := wt(w, r)
			d := clamp(score[r]-y[r], -o.delta, o.delta)
			gp[r] = gpair{float32(d * ww), float32(ww)}
		}
	case ObjPoisson:
		for _, r := range rows {
			ww := wt(w, r)
			s := score[r]
			gp[r] = gpair{float32((math.Exp(s) - y[r]) * ww), float32(math.Exp(s+poissonMaxDelta) * ww)}
		}
	case ObjBinary:
		if w == nil {
			for _, r := range rows {
				p := 1 / (1 + math.Exp(-score[r]))
				gp[r] = gpair{float32(p - y[r]), float32(max(p*(1-p), 1e-16))}
			}
			return
		}
		for _, r := range rows {
			ww := w[r]
			p := 1 / (1 + math.Exp(-score[r]))
			gp[r] = gpair{float32((p - y[r]) * ww), float32(max(p*(1-p), 1e-16) * ww)}
		}
	case ObjSoftmax:
		o.softmaxGradients(gp, score, y, w, rows, n)
	}
}

// gradientsMax is gradients for one output (k = 1) that also returns
// gradMax(gp, rows), computed in the same pass for the common unweighted
// binary objective (the values are the same as a separate gradMax pass:
// max is exact).
func (o *objective) gradientsMax(gp []gpair, score, y, w []float64, rows []int32, n int) (a, b float32) {
	if o.name != ObjBinary || w != nil {
		o.gradients(gp, score, y, w, rows, n)
		return gradMax(gp, rows)
	}
	y = y[:n]
	gp = gp[:n]
	score = score[:n]
	for _, r := range rows {
		p := 1 / (1 + math.Exp(-score[r]))
		hh := p * (1 - p)
		if !(hh >= 1e-16) { // max(hh, 1e-16) for the non-NaN hh it always is
			hh = 1e-16
		}
		g, h := float32(p-y[r]), float32(hh)
		gp[r] = gpair{g, h}
		a, b = maxAbsPair(a, b, g, h)
	}
	return a, b
}

// maxAbsPair returns max(a, |g|) and max(b, h) for non-negative a and b,
// with plain comparisons: the builtin max's NaN and signed-zero handling
// costs a dozen instructions per call in the gradient loops, and gradients
// and hessians are never NaN (scores and targets are finite). For a
// non-NaN g the results equal max(a, g, -g) and max(b, h) as values.
func maxAbsPair(a, b, g, h float32) (float32, float32) {
	if ag := math.Float32frombits(math.Float32bits(g) &^ (1 << 31)); ag > a {
		a = ag
	}
	if h > b {
		b = h
	}
	return a, b
}

// softmaxBlock is the number of rows softmaxGradients handles per pass over
// the k class score columns.
const softmaxBlock = 128

// softmaxGradients is the softmax case of gradients. It works on blocks of
// rows class by class, so each pass reads one class's score column
// sequentially instead of striding over k columns per row; per row the
// maximum, the exponentials and their sum are accumulated in class order,
// exactly as a row-by-row loop does.
func (o *objective) softmaxGradients(gp []gpair, score, y, w []float64, rows []int32, n int) {
	k := o.k
	factor := float64(k) / float64(k-1)
	var m, s [softmaxBlock]float64
	e := make([]float64, k*softmaxBlock)
	for start := 0; start < len(rows); start += softmaxBlock {
		rs := rows[start:min(start+softmaxBlock, len(rows))]
		for i := range rs {
			m[i] = math.Inf(-1)
			s[i] = 0
		}
		for c := range k {
			sc := score[c*n : (c+1)*n]
			for i, r := range rs {
				m[i] = max(m[i], sc[r])
			}
		}
		for c := range k {
			sc := score[c*n : (c+1)*n]
			ec := e[c*softmaxBlock : (c+1)*softmaxBlock]
			for i, r := range rs {
				v := math.Exp(sc[r] - m[i])
				ec[i] = v
				s[i] += v
			}
		}
		for c := range k {
			ec := e[c*softmaxBlock : (c+1)*softmaxBlock]
			gc := gp[c*n : (c+1)*n]
			for i, r := range rs {
				ww := wt(w, r)
				p := ec[i] / s[i]
				t := 0.0
				if c == int(y[r]) {
					t = 1
				}
				gc[r] = gpair{float32((p - t) * ww), float32(max(factor*p*(1-p), 1e-16) * ww)}
			}
		}
	}
}

// loss returns the weighted mean loss over rows (for early stopping).
func (o *objective) loss(score, y, w []float64, rows []int32, n int) float64 {
	sum, sw := 0.0, 0.0
	for _, r := range rows {
		ww := wt(w, r)
		sw += ww
		s, t := score[r], y[r]
		var l float64
		switch o.name {
		case ObjSquared:
			l = (s - t) * (s - t)
		case ObjAbsolute:
			l = math.Abs(s - t)
		case ObjHuber:
			d := math.Abs(s - t)
			if d <= o.delta {
				l = 0.5 * d * d
			} else {
				l = o.delta * (d - 0.5*o.delta)
			}
		case ObjPoisson:
			l = math.Exp(s) - t*s
		case ObjBinary:
			// log(1+exp(-s)) for y=1, log(1+exp(s)) for y=0, stably.
			z := s
			if t == 1 {
				z = -s
			}
			l = softplus(z)
		case ObjSoftmax:
			m := math.Inf(-1)
			for c := range o.k {
				m = max(m, score[c*n+int(r)])
			}
			se := 0.0
			for c := range o.k {
				se += math.Exp(score[c*n+int(r)] - m)
			}
			l = m + math.Log(se) - score[int(t)*n+int(r)]
		}
		sum += ww * l
	}
	if sw == 0 {
		return 0
	}
	return sum / sw
}

func softplus(z float64) float64 {
	if z > 30 {
		return z
	}
	return math.Log1p(math.Exp(z))
}

// weightedMedian returns the weighted median of vals (reordered in place).
func weightedMedian(vals, ws []float64) float64 {
	if len(vals) == 0 {
		return 0
	}
	idx := make([]int, len(vals))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return vals[idx[a]] < vals[idx[b]] })
	total := 0.0
	for _, w := range ws {
		total += w
	}
	acc := 0.0
	for _, i := range idx {
		acc += ws[i]
		if acc >= total/2 {
			return vals[i]
		}
	}
	return vals[idx[len(idx)-1]]
}

// outputTransform turns raw scores into predictions for regression.
func outputTransform(obj string, s float64) float64 {
	if obj == ObjPoisson {
		return math.Exp(s)
	}
	return s
}

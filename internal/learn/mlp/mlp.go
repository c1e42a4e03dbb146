package mlp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/dense"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// MLP is the multilayer perceptron learner. Use New for the defaults.
type MLP struct {
	HiddenLayerSizes   []int   `param:"hidden_layer_sizes" help:"units per hidden layer, comma separated (e.g. 100 or 64,32)"`
	Alpha              float64 `param:"alpha" help:"L2 penalty (≥ 0)"`
	BatchSize          int     `param:"batch_size" help:"rows per mini-batch (≥ 1; capped at the training rows)"`
	LearningRate       float64 `param:"learning_rate" help:"Adam step size (> 0)"`
	Beta1              float64 `param:"beta1" help:"Adam first-moment decay in [0, 1)"`
	Beta2              float64 `param:"beta2" help:"Adam second-moment decay in [0, 1)"`
	Epsilon            float64 `param:"epsilon" help:"Adam numerical stabiliser (> 0)"`
	MaxIter            int     `param:"max_iter" help:"maximum epochs (≥ 1)"`
	EarlyStopping      bool    `param:"early_stopping" help:"hold out validation_fraction of the rows and stop when its score stalls"`
	ValidationFraction float64 `param:"validation_fraction" help:"share of rows held out for early stopping, in (0, 1)"`
	NIterNoChange      int     `param:"n_iter_no_change" help:"epochs without an improvement of tol before stopping (≥ 1)"`
	Tol                float64 `param:"tol" help:"least improvement of the loss or validation score that counts (≥ 0)"`
	Seed               uint64  `param:"seed" help:"random seed (initial weights, shuffling, validation split)"`
}

// New returns an MLP learner with scikit-learn's defaults, except that early
// stopping is on.
func New() *MLP {
	return &MLP{HiddenLayerSizes: []int{100}, Alpha: 1e-4, BatchSize: 200, LearningRate: 1e-3, Beta1: 0.9, Beta2: 0.999,
		Epsilon: 1e-8, MaxIter: 200, EarlyStopping: true, ValidationFraction: 0.1, NIterNoChange: 10, Tol: 1e-4}
}

// Name implements learn.Learner.
func (*MLP) Name() string { return "mlp" }

func (l *MLP) check() error {
	if len(l.HiddenLayerSizes) == 0 {
		return errors.New("hidden_layer_sizes is empty, want at least one layer size ≥ 1")
	}
	for i, h := range l.HiddenLayerSizes {
		if h < 1 || h > 1<<16 {
			return fmt.Errorf("hidden_layer_sizes[%d] is %d, want 1..65536", i, h)
		}
	}
	switch {
	case !(l.Alpha >= 0) || math.IsInf(l.Alpha, 0):
		return fmt.Errorf("alpha is %v, want a finite number ≥ 0", l.Alpha)
	case l.BatchSize < 1:
		return fmt.Errorf("batch_size is %d, want ≥ 1", l.BatchSize)
	case !(l.LearningRate > 0) || math.IsInf(l.LearningRate, 0):
		return fmt.Errorf("learning_rate is %v, want a finite number > 0", l.LearningRate)
	case !(l.Beta1 >= 0 && l.Beta1 < 1):
		return fmt.Errorf("beta1 is %v, want a number in [0, 1)", l.Beta1)
	case !(l.Beta2 >= 0 && l.Beta2 < 1):
		return fmt.Errorf("beta2 is %v, want a number in [0, 1)", l.Beta2)
	case !(l.Epsilon > 0):
		return fmt.Errorf("epsilon is %v, want a number > 0", l.Epsilon)
	case l.MaxIter < 1:
		return fmt.Errorf("max_iter is %d, want ≥ 1", l.MaxIter)
	case l.EarlyStopping && !(l.ValidationFraction > 0 && l.ValidationFraction < 1):
		return fmt.Errorf("validation_fraction is %v, want a number in (0, 1)", l.ValidationFraction)
	case l.NIterNoChange < 1:
		return fmt.Errorf("n_iter_no_change is %d, want ≥ 1", l.NIterNoChange)
	case !(l.Tol >= 0):
		return fmt.Errorf("tol is %v, want a number ≥ 0", l.Tol)
	}
	return nil
}

// net is the network state: layer sizes, weights (in×out row-major per
// layer) and biases.
type net struct {
	Sizes   []int
	Weights [][]float64
	Biases  [][]float64
}

func (n *net) clone() net {
	c := net{Sizes: n.Sizes, Weights: make([][]float64, len(n.Weights)), Biases: make([][]float64, len(n.Biases))}
	for i := range n.Weights {
		c.Weights[i] = append([]float64(nil), n.Weights[i]...)
		c.Biases[i] = append([]float64(nil), n.Biases[i]...)
	}
	return c
}

// forward computes the activations of a batch of b rows (row-major in x);
// acts[0] is x and acts[L] the output before the output nonlinearity.
func (n *net) forward(x []float64, b int, acts [][]float64) {
	acts[0] = x
	L := len(n.Weights)
	for l := 0; l < L; l++ {
		in, out := n.Sizes[l], n.Sizes[l+1]
		a, z := acts[l], acts[l+1][:b*out]
		W, bias := n.Weights[l], n.Biases[l]
		for i := 0; i < b; i++ {
			zi := z[i*out : (i+1)*out]
			copy(zi, bias)
			ai := a[i*in : (i+1)*in]
			for k, v := range ai {
				if v == 0 {
					continue
				}
				wk := W[k*out : (k+1)*out]
				for j, w := range wk {
					zi[j] += v * w
				}
			}
			if l < L-1 {
				for j, v := range zi {
					if v < 0 {
						zi[j] = 0
					}
				}
			}
		}
	}
}

// outputs applies the output nonlinearity in place: sigmoid for one output
// of a classifier, softmax for several, identity for regression.
func outputs(z []float64, b, k int, task learn.Task) {
	switch {
	case task == learn.Binary:
		for i := 0; i < b; i++ {
			z[i] = sigmoid(z[i])
		}
	case task == learn.Multiclass:
		for i := 0; i < b; i++ {
			row := z[i*k : (i+1)*k]
			learn.Softmax(row, row)
		}
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Fit implements learn.Learner.
func (l *MLP) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	const op = "fit mlp"
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if d == nil || d.X == nil {
		return nil, fmt.Errorf("%s: no data", op)
	}
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if !d.Task.Classification() && d.Task != learn.Regression {
		return nil, fmt.Errorf("%s: task %s is not supported (valid: binary, multiclass, regression)", op, d.Task)
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	enc, err := dense.Fit(d, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	N := d.N()
	X, err := enc.Transform(d.X, d.Rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	D := enc.Width
	task := d.Task
	kOut := 1
	if task == learn.Multiclass {
		kOut = d.NumClasses()
	}
	y := make([]float64, N)
	w := make([]float64, N)
	for i := range y {
		y[i] = d.Target(i)
		w[i] = d.W(i)
	}
	m := &Model{Enc: *enc, Task: task, K: d.NumClasses(), YScale: 1}
	if task == learn.Regression {
		m.YMean, m.YScale = standardize(y)
	}
	rng := rand.New(rand.NewPCG(l.Seed, 0x6d6c70))
	// Split off the validation rows.
	perm := rng.Perm(N)
	var train, valid []int
	if l.EarlyStopping && N >= 10 {
		nv := max(1, int(l.ValidationFraction*float64(N)))
		valid, train = perm[:nv], perm[nv:]
	} else {
		train = perm
	}
	sizes := append(append([]int{D}, l.HiddenLayerSizes...), kOut)
	nt := newNet(sizes, task, rng)
	bs := min(l.BatchSize, len(train))
	L := len(nt.Weights)
	acts := make([][]float64, L+1)
	deltas := make([][]float64, L+1)
	for i := 1; i <= L; i++ {
		acts[i] = make([]float64, bs*sizes[i])
		deltas[i] = make([]float64, bs*sizes[i])
	}
	gW, mW, vW := nt.like(nt.Weights), nt.like(nt.Weights), nt.like(nt.Weights)
	gB, mB, vB := nt.like(nt.Biases), nt.like(nt.Biases), nt.like(nt.Biases)
	xb := make([]float64, bs*D)
	yb := make([]float64, bs)
	wb := make([]float64, bs)
	step := 0
	best := net{}
	bestScore, bestLoss := math.Inf(-1), math.Inf(1)
	noImprove := 0
	for epoch := 0; epoch < l.MaxIter; epoch++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		rng.Shuffle(len(train), func(a, b int) { train[a], train[b] = train[b], train[a] })
		epochLoss := 0.0
		for start, batch := 0, 0; start < len(train); start, batch = start+bs, batch+1 {
			if batch&63 == 63 && ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", op, ctx.Err())
			}
			idx := train[start:min(start+bs, len(train))]
			b := len(idx)
			for r, i := range idx {
				copy(xb[r*D:(r+1)*D], X[i*D:(i+1)*D])
				yb[r], wb[r] = y[i], w[i]
			}
			nt.forward(xb[:b*D], b, acts)
			out := acts[L][:b*kOut]
			outputs(out, b, kOut, task)
			epochLoss = outputDeltas(epochLoss, out, deltas[L][:b*kOut], yb[:b], wb[:b], kOut, task)
			nt.backward(acts, deltas, gW, gB, b, l.Alpha)
			// Adam update.
			step++
			lr := l.LearningRate * math.Sqrt(1-math.Pow(l.Beta2, float64(step))) / (1 - math.Pow(l.Beta1, float64(step)))
			for li := 0; li < L; li++ {
				adam(nt.Weights[li], gW[li], mW[li], vW[li], lr, l.Beta1, l.Beta2, l.Epsilon)
				adam(nt.Biases[li], gB[li], mB[li], vB[li], lr, l.Beta1, l.Beta2, l.Epsilon)
			}
		}
		m.Iterations = epoch + 1
		if math.IsNaN(epochLoss) || math.IsInf(epochLoss, 0) {
			return nil, fmt.Errorf("%s: training diverged at epoch %d (try a smaller learning_rate)", op, epoch+1)
		}
		if valid != nil {
			score := m.score(&nt, X, y, valid, D)
			if score > bestScore+l.Tol {
				noImprove = 0
			} else {
				noImprove++
			}
			if score > bestScore {
				bestScore = score
				best = nt.clone()
			}
			m.ValidationScore = bestScore
		} else {
			loss := epochLoss / float64(len(train))
			if loss > bestLoss-l.Tol {
				noImprove++
			} else {
				noImprove = 0
			}
			bestLoss = min(bestLoss, loss)
			m.Loss = loss
		}
		if noImprove >= l.NIterNoChange {
			break
		}
	}
	if valid != nil && best.Weights != nil {
		nt = best
	}
	m.Net = nt
	return wrap(m), nil
}

// standardize centres y and scales it to unit variance in place (scale 1
// for a constant target) and returns the mean and scale.
func standardize(y []float64) (mean, scale float64) {
	N := float64(len(y))
	s, s2 := 0.0, 0.0
	for _, v := range y {
		s += v
		s2 += v * v
	}
	mean, scale = s/N, 1
	if sd := math.Sqrt(max(s2/N-mean*mean, 0)); sd > 0 {
		scale = sd
	}
	for i := range y {
		y[i] = (y[i] - mean) / scale
	}
	return mean, scale
}

// like returns zeroed slices shaped like the layers' weights or biases
// (gradients and Adam moments).
func (nt *net) like(layers [][]float64) [][]float64 {
	out := make([][]float64, len(layers))
	for i, l := range layers {
		out[i] = make([]float64, len(l))
	}
	return out
}

// newNet returns a network of the given layer sizes with Glorot uniform
// weights and biases drawn from rng (the output layer of a classifier with
// the tighter bound for sigmoid/softmax, as scikit-learn).
func newNet(sizes []int, task learn.Task, rng *rand.Rand) net {
	nt := net{Sizes: sizes}
	for i := 0; i+1 < len(sizes); i++ {
		in, out := sizes[i], sizes[i+1]
		bound := math.Sqrt(6 / float64(in+out))
		if i == len(sizes)-2 && task.Classification() {
			bound = math.Sqrt(2 / float64(in+out))
		}
		W := make([]float64, in*out)
		for q := range W {
			W[q] = (2*rng.Float64() - 1) * bound
		}
		b := make([]float64, out)
		for q := range b {
			b[q] = (2*rng.Float64() - 1) * bound
		}
		nt.Weights = append(nt.Weights, W)
		nt.Biases = append(nt.Biases, b)
	}
	return nt
}

// outputDeltas writes the gradient of the batch's mean loss with respect to
// the output layer's logits into dl and returns loss plus the batch's rows'
// weighted losses (log loss, or half the squared error for regression),
// added one at a time.
func outputDeltas(loss float64, out, dl, yb, wb []float64, kOut int, task learn.Task) float64 {
	b := len(yb)
	for r := 0; r < b; r++ {
		switch task {
		case learn.Binary:
			p := min(max(out[r], 1e-15), 1-1e-15)
			if yb[r] == 1 {
				loss -= wb[r] * math.Log(p)
			} else {
				loss -= wb[r] * math.Log(1-p)
			}
			dl[r] = wb[r] * (out[r] - yb[r]) / float64(b)
		case learn.Multiclass:
			c := int(yb[r])
			loss -= wb[r] * math.Log(max(out[r*kOut+c], 1e-15))
			for q := 0; q < kOut; q++ {
				t := 0.0
				if q == c {
					t = 1
				}
				dl[r*kOut+q] = wb[r] * (out[r*kOut+q] - t) / float64(b)
			}
		default:
			e := out[r] - yb[r]
			loss += wb[r] * e * e / 2
			dl[r] = wb[r] * e / float64(b)
		}
	}
	return loss
}

// backward propagates the output deltas through the network, writing the
// weight and bias gradients of the batch's mean loss (plus the L2 term
// alpha·W/b) into gW and gB, and the hidden layers' deltas into deltas.
func (nt *net) backward(acts, deltas, gW, gB [][]float64, b int, alpha float64) {
	sizes := nt.Sizes
	for li := len(nt.Weights) - 1; li >= 0; li-- {
		in, outN := sizes[li], sizes[li+1]
		a := acts[li]
		dd := deltas[li+1][:b*outN]
		W := nt.Weights[li]
		g, gb := gW[li], gB[li]
		for q := range g {
			g[q] = alpha * W[q] / float64(b)
		}
		clear(gb)
		for r := 0; r < b; r++ {
			dr := dd[r*outN : (r+1)*outN]
			for j, v := range dr {
				gb[j] += v
			}
			ar := a[r*in : (r+1)*in]
			for k, av := range ar {
				if av == 0 {
					continue
				}
				gk := g[k*outN : (k+1)*outN]
				for j, v := range dr {
					gk[j] += av * v
				}
			}
		}
		if li > 0 {
			dp := deltas[li][:b*in]
			for r := 0; r < b; r++ {
				dr := dd[r*outN : (r+1)*outN]
				ar := a[r*in : (r+1)*in]
				dpr := dp[r*in : (r+1)*in]
				for k := range dpr {
					if ar[k] <= 0 {
						dpr[k] = 0
						continue
					}
					wk := W[k*outN : (k+1)*outN]
					s := 0.0
					for j, v := range dr {
						s += wk[j] * v
					}
					dpr[k] = s
				}
			}
		}
	}
}

func adam(p, g, mo, v []float64, lr, b1, b2, eps float64) {
	for q := range p {
		mo[q] = b1*mo[q] + (1-b1)*g[q]
		v[q] = b2*v[q] + (1-b2)*g[q]*g[q]
		p[q] -= lr * mo[q] / (math.Sqrt(v[q]) + eps)
	}
}

// score is the validation accuracy (classification) or R² (regression) on
// the given rows of the encoded matrix.
func (m *Model) score(nt *net, X, y []float64, rows []int, D int) float64 {
	xs := make([]float64, len(rows)*D)
	for r, i := range rows {
		copy(xs[r*D:(r+1)*D], X[i*D:(i+1)*D])
	}
	out := m.forwardAll(nt, xs, len(rows))
	k := nt.Sizes[len(nt.Sizes)-1]
	switch m.Task {
	case learn.Binary, learn.Multiclass:
		ok := 0
		for r, i := range rows {
			c := 0
			if m.Task == learn.Binary {
				if out[r] > 0.5 {
					c = 1
				}
			} else {
				for q := 1; q < k; q++ {
					if out[r*k+q] > out[r*k+c] {
						c = q
					}
				}
			}
			if float64(c) == y[i] {
				ok++
			}
		}
		return float64(ok) / float64(len(rows))
	}
	mean := 0.0
	for _, i := range rows {
		mean += y[i]
	}
	mean /= float64(len(rows))
	ss, se := 0.0, 0.0
	for r, i := range rows {
		ss += (y[i] - mean) * (y[i] - mean)
		se += (y[i] - out[r]) * (y[i] - out[r])
	}
	if ss == 0 {
		return -se
	}
	return 1 - se/ss
}

// forwardAll returns the network outputs (after the output nonlinearity)
// for n encoded rows, in blocks.
func (m *Model) forwardAll(nt *net, xs []float64, n int) []float64 {
	D := nt.Sizes[0]
	L := len(nt.Weights)
	k := nt.Sizes[L]
	out := make([]float64, n*k)
	const blk = 256
	nb := (n + blk - 1) / blk
	parallel.ForWorker(nb, 0, func() func(int) {
		acts := make([][]float64, L+1)
		for i := 1; i <= L; i++ {
			acts[i] = make([]float64, blk*nt.Sizes[i])
		}
		return func(b int) {
			lo, hi := b*blk, min((b+1)*blk, n)
			nt.forward(xs[lo*D:hi*D], hi-lo, acts)
			o := acts[L][:(hi-lo)*k]
			outputs(o, hi-lo, k, m.Task)
			copy(out[lo*k:hi*k], o)
		}
	})
	return out
}

// Model is a fitted multilayer perceptron. Classification models are
// returned as *Classifier, which adds class probabilities.
type Model struct {
	Enc  dense.Encoder
	Net  net
	Task learn.Task
	K    int
	// YMean and YScale undo the regression target standardisation.
	YMean, YScale float64
	// Iterations is the number of epochs run.
	Iterations int
	// ValidationScore is the best validation score (accuracy or R²) with
	// early stopping; Loss the final training loss without it.
	ValidationScore float64
	Loss            float64
}

// Classifier is a fitted classification MLP.
type Classifier struct{ *Model }

func wrap(m *Model) learn.Model {
	if m.Task.Classification() {
		return Classifier{m}
	}
	return m
}

// Kind implements learn.Model.
func (*Model) Kind() string { return "mlp" }

func (m *Model) proba(X *frame.Matrix) ([]float64, error) {
	Z, err := m.Enc.Transform(X, nil)
	if err != nil {
		return nil, fmt.Errorf("predict mlp: %w", err)
	}
	return m.forwardAll(&m.Net, Z, X.Rows), nil
}

// Predict implements learn.Model.
func (m *Model) Predict(X *frame.Matrix) ([]float64, error) {
	out, err := m.proba(X)
	if err != nil {
		return nil, err
	}
	switch m.Task {
	case learn.Binary:
		for i, p := range out {
			out[i] = 0
			if p > 0.5 {
				out[i] = 1
			}
		}
		return out, nil
	case learn.Multiclass:
		return learn.ArgMax(out, m.K), nil
	}
	for i := range out {
		out[i] = out[i]*m.YScale + m.YMean
	}
	return out, nil
}

// PredictProba implements learn.Prober.
func (c Classifier) PredictProba(X *frame.Matrix) ([]float64, error) {
	out, err := c.proba(X)
	if err != nil || c.Task == learn.Multiclass {
		return out, err
	}
	p := make([]float64, 2*len(out))
	for i, v := range out {
		p[2*i], p[2*i+1] = 1-v, v
	}
	return p, nil
}

// state is Model without methods, for gob. Format 2; format 1 had the
// encoder in the dense.V1 layout.
type state struct {
	Enc                   dense.Encoder
	Sizes                 []int
	Weights, Biases       [][]float64
	Task                  learn.Task
	K                     int
	YMean, YScale         float64
	Iterations            int
	ValidationScore, Loss float64
}

// MarshalBinary implements encoding.BinaryMarshaler (gob, exact floats).
func (m *Model) MarshalBinary() ([]byte, error) {
	return dense.MarshalGob("mlp", &state{Enc: m.Enc, Sizes: m.Net.Sizes, Weights: m.Net.Weights, Biases: m.Net.Biases, Task: m.Task, K: m.K,
		YMean: m.YMean, YScale: m.YScale, Iterations: m.Iterations, ValidationScore: m.ValidationScore, Loss: m.Loss})
}

// Decode rebuilds a model from MarshalBinary output.
func Decode(data []byte) (learn.Model, error) {
	var s state
	if err := dense.UnmarshalGob("mlp", data, &s, &s.Enc); err != nil {
		return nil, err
	}
	m := &Model{Enc: s.Enc, Net: net{Sizes: s.Sizes, Weights: s.Weights, Biases: s.Biases}, Task: s.Task, K: s.K,
		YMean: s.YMean, YScale: s.YScale, Iterations: s.Iterations, ValidationScore: s.ValidationScore, Loss: s.Loss}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return wrap(m), nil
}

// validate checks the network's shape against its encoder (checked by
// dense.UnmarshalGob) and task.
func (m *Model) validate() error {
	width := m.Enc.Width
	S := m.Net.Sizes
	if len(S) < 2 || S[0] != width || len(m.Net.Weights) != len(S)-1 || len(m.Net.Biases) != len(S)-1 {
		return errors.New("inconsistent mlp network shape")
	}
	for l := 0; l+1 < len(S); l++ {
		if S[l] < 1 || S[l+1] < 1 || len(m.Net.Weights[l]) != S[l]*S[l+1] || len(m.Net.Biases[l]) != S[l+1] {
			return fmt.Errorf("inconsistent mlp layer %d", l+1)
		}
	}
	k := S[len(S)-1]
	switch {
	case m.Task == learn.Multiclass && k != m.K, m.Task == learn.Binary && k != 1, m.Task == learn.Regression && k != 1:
		return errors.New("mlp output layer does not match its task")
	case !m.Task.Classification() && m.Task != learn.Regression:
		return errors.New("mlp model has an invalid task")
	}
	return nil
}

func init() {
	dense.FixGobTypes(&state{})
	learn.Register(learn.Spec{
		Name:    "mlp",
		Summary: "multilayer perceptron: ReLU layers, Adam, mini-batches, L2, early stopping; sigmoid/softmax/linear output",
		Tasks:   []learn.Task{learn.Binary, learn.Multiclass, learn.Regression},
		New:     func() learn.Learner { return New() },
		Decode:  func(_ string, data []byte) (learn.Model, error) { return Decode(data) },
		Kinds:   []string{"mlp"},
	})
}

var (
	_ learn.Learner = (*MLP)(nil)
	_ learn.Model   = (*Model)(nil)
	_ learn.Prober  = Classifier{}
)

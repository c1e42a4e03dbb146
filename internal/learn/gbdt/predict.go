package gbdt

import (
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// smallBatch is the largest batch scored row by row, without blocks or
// goroutines (the single-row path of gyre serve).
const smallBatch = 16

// raw fills out (row-major n×k) with raw margins: row by row for small
// batches, else in blocks of rows spread over the cores.
func (m *Model) raw(X *frame.Matrix, out []float64) {
	n, p, k := X.Rows, X.Cols, m.k
	e := m.fast
	if n <= smallBatch || e == nil {
		var stack [64]float64
		row := stack[:0]
		if p > len(stack) {
			row = make([]float64, 0, p)
		}
		row = row[:p]
		for i := range n {
			for j := range p {
				row[j] = X.Data[j*n+i]
			}
			m.rawRow(row, out[i*k:(i+1)*k])
		}
		return
	}
	blocks := (n + blockRows - 1) / blockRows
	threads := defaultThreads()
	if n < 2048 {
		threads = 1
	}
	threads = min(threads, blocks)
	// Workers take blocks from a shared counter rather than fixed halves:
	// when a core is busy elsewhere (the reader and writer of gyre predict,
	// another chunk, the VM host), the other worker takes over its share
	// instead of waiting at the end. Each block writes only its own rows,
	// so results do not depend on which worker scored it.
	parallel.ForWorker(blocks, threads, func() func(int) {
		buf := make([]float64, blockRows*e.blockWidth)
		return func(blk int) {
			lo := blk * blockRows
			hi := min(lo+blockRows, n)
			e.extendBlock(buf, X.Data, n, lo, hi-lo)
			e.extendCodes(buf, X.Data, n, lo, hi-lo)
			acc := out[lo*k : hi*k]
			for r := range hi - lo {
				copy(acc[r*k:(r+1)*k], m.base)
			}
			e.addBlock(buf, hi-lo, acc)
		}
	})
}

// rawRow sets out (k values) to the raw margins of one row of p feature
// values (NaN = missing).
func (m *Model) rawRow(row, out []float64) {
	copy(out, m.base)
	e := m.fast
	if e == nil {
		for ti, t := range m.trees {
			out[ti%m.k] += t.Value[t.leafOf(func(f int) float64 { return row[f] })]
		}
		return
	}
	if qs := m.qs; qs != nil {
		qs.score(row, out)
		return
	}
	var stack [192]float64
	x := stack[:0]
	if e.width > len(stack) {
		x = make([]float64, 0, e.width)
	}
	x = x[:e.width]
	e.extendRow(x, row)
	e.addRow(x, out)
}

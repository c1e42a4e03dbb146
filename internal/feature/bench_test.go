package feature

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

var (
	benchOnce  sync.Once
	benchFrame *frame.Frame
)

// wideFrame is 1,000,000 rows × 20 mixed columns (12 float with 5% missing,
// 3 int, 1 bool, 4 categorical with 8–40 levels and 2% missing) plus a
// binary target.
func wideFrame() *frame.Frame {
	benchOnce.Do(func() {
		const n = 1_000_000
		r := rand.New(rand.NewPCG(1, 2))
		var cols []frame.Column
		for j := 0; j < 12; j++ {
			v := make([]float64, n)
			valid := frame.NewValidity(n)
			for i := range v {
				v[i] = r.NormFloat64()*float64(j+1) + float64(j)
				if r.IntN(20) == 0 {
					valid.SetNull(i)
					v[i] = 0
				}
			}
			cols = append(cols, &frame.Float{ColName: fmt.Sprintf("f%d", j), Values: v, Valid: valid})
		}
		for j := 0; j < 3; j++ {
			v := make([]int64, n)
			for i := range v {
				v[i] = int64(r.IntN(1000))
			}
			cols = append(cols, frame.NewInt(fmt.Sprintf("i%d", j), v))
		}
		b := make([]bool, n)
		for i := range b {
			b[i] = r.IntN(2) == 0
		}
		cols = append(cols, frame.NewBool("b", b))
		for j := 0; j < 4; j++ {
			k := 8 + 10*j
			levels := make([]string, k)
			for l := range levels {
				levels[l] = fmt.Sprintf("c%d_%d", j, l)
			}
			codes := make([]int32, n)
			for i := range codes {
				codes[i] = int32(r.IntN(k))
				if r.IntN(50) == 0 {
					codes[i] = -1
				}
			}
			cols = append(cols, &frame.Categorical{ColName: fmt.Sprintf("c%d", j), Codes: codes, Levels: levels})
		}
		y := make([]int64, n)
		for i := range y {
			y[i] = int64(r.IntN(2))
		}
		cols = append(cols, frame.NewInt("y", y))
		benchFrame = frame.MustNew(cols...)
		_ = benchFrame.SetRole("y", frame.RoleTarget)
	})
	return benchFrame
}

// BenchmarkAutoLinearFit fits the automatic linear pipeline (impute with
// indicators, one-hot, standard scaling) on 1M × 20 rows, including the
// transformed training frame.
func BenchmarkAutoLinearFit(b *testing.B) {
	f := wideFrame()
	p, err := Auto("linear", f.Schema())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := p.Fit(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAutoLinearTransform applies the fitted pipeline and the design
// matrix encoder to 1M × 20 rows (the serving/predict path).
func BenchmarkAutoLinearTransform(b *testing.B) {
	f := wideFrame()
	p, _ := Auto("linear", f.Schema())
	fp, out, err := p.Fit(f)
	if err != nil {
		b.Fatal(err)
	}
	enc, err := FitEncoder(out, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g, err := fp.Transform(f)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := enc.Transform(g); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncoder encodes 1M × 20 mixed rows into a design matrix.
func BenchmarkEncoder(b *testing.B) {
	f := wideFrame()
	enc, err := FitEncoder(f, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := enc.Transform(f); err != nil {
			b.Fatal(err)
		}
	}
}

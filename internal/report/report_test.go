package report

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/validate"
)

// TestEscaping: text cannot inject markup and chart data cannot close its
// script element.
func TestEscaping(t *testing.T) {
	evil := `</script><script>alert(1)</script><b>`
	pg := &Page{Title: evil}
	pg.AddSection(evil).Add(
		Cards{{Label: evil, Value: evil}},
		Table{Columns: []string{evil}, Rows: [][]Cell{{{Text: evil, Link: evil}}}},
		Chart{Option: Bars([]string{evil}, []Series{{Name: evil, Values: []float64{math.NaN()}}}, BarOptions{})},
		Note{Text: evil}, Warnings{{Label: "x", Value: evil, Note: evil}},
	)
	var buf bytes.Buffer
	if err := pg.Render(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "<script>alert(1)") || strings.Contains(out, "<b>") {
		t.Error("unescaped text in the page")
	}
	if !strings.Contains(out, "echarts") || strings.Count(out, `data-chart="ec1"`) != 1 {
		t.Error("page lacks the embedded library or the chart")
	}
}

func TestPages(t *testing.T) {
	n := 200
	x := make([]float64, n)
	y := make([]string, n)
	for i := range x {
		x[i] = float64(i % 17)
		y[i] = []string{"a", "b", "c"}[i%3]
	}
	gone := frame.NewFloat("gone", make([]float64, n))
	gone.Valid = frame.NewValidity(n)
	for i := 0; i < n; i++ {
		gone.Valid.SetNull(i)
	}
	f := frame.MustNew(frame.NewFloat("x", x), frame.NewCategorical("y", y, nil), gone)
	p, err := profile.Compute(context.Background(), f, profile.Options{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ProfilePage(p).Render(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Target: y", "Every value is missing", `id="col-x"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("profile page lacks %q", want)
		}
	}
	rep, err := validate.Against(context.Background(), p, f, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := ValidationPage(rep).Render(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "PASSED") {
		t.Error("validation page lacks the verdict")
	}
}

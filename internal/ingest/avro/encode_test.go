package avro

import (
	"math"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/docframe"
)

// Datums DatumWriter encodes decode back to the values, at the integer
// extremes too; a column name kept in gyre.column is the decoded column's
// name but not part of the schema's canonical form (the fingerprint other
// Avro implementations compute).
func TestDatumWriterRoundTrip(t *testing.T) {
	ints := []int64{0, -1, 1, 63, -64, 64, math.MaxInt64, math.MinInt64, 1 << 40}
	n := len(ints)
	fl := make([]float64, n)
	valid := frame.NewValidity(n)
	for i := range fl {
		fl[i] = float64(i) / 3
	}
	valid.SetNull(2)
	f := frame.MustNew(&frame.Int{ColName: "n", Values: ints}, &frame.Float{ColName: "proba.yes", Values: fl, Valid: valid})
	w, err := NewDatumWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(w.Schema())
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Canonical(); !strings.Contains(c, `"proba_yes"`) || strings.Contains(c, "proba.yes") || s.Fingerprint() != w.Fingerprint() {
		t.Fatalf("canonical form %s", c)
	}
	b := docframe.New(0)
	for i := range n {
		if err := s.DecodeOne(w.Append(nil, f, i), b); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.Frame()
	if err != nil {
		t.Fatal(err)
	}
	gn, _ := got.Column("n")
	gp, err := got.Column("proba.yes")
	if err != nil {
		t.Fatalf("columns %v", got.Names())
	}
	for i := range n {
		if gn.(*frame.Int).Values[i] != ints[i] {
			t.Errorf("row %d: %d, want %d", i, gn.(*frame.Int).Values[i], ints[i])
		}
		if gp.IsNull(i) != (i == 2) || i != 2 && gp.(*frame.Float).Values[i] != fl[i] {
			t.Errorf("row %d: proba %v", i, gp.Format(i))
		}
	}
	if fp, datum, ok := SingleObject(w.AppendSingleObject(nil, f, 0)); !ok || fp != w.Fingerprint() || len(datum) == 0 {
		t.Error("single-object encoding")
	}
}

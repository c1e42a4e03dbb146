package feature

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

func TestEncoder(t *testing.T) {
	train := mixedFrame(100, 1)
	if err := train.SetRole("y", frame.RoleTarget); err != nil {
		t.Fatal(err)
	}
	e, err := FitEncoder(train, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Names(), []string{"age", "count", "flag", "city", "note", "ts"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("features %v, want %v", got, want)
	}
	cols := e.Columns()
	if !cols[3].Categorical || !reflect.DeepEqual(cols[3].Levels, []string{"Berlin", "Lima", "Oslo", "Paris", "Rome", "paris "}) {
		t.Errorf("city column %+v", cols[3])
	}
	m, err := e.Transform(train)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 100 || m.Cols != 6 {
		t.Fatalf("matrix %d×%d", m.Rows, m.Cols)
	}
	city, _ := train.Column("city")
	for i := 0; i < 100; i++ {
		got := m.At(i, 3)
		if city.IsNull(i) != math.IsNaN(got) || (!city.IsNull(i) && cols[3].Levels[int(got)] != city.Format(i)) {
			t.Fatalf("row %d: city %q encoded %v", i, city.Format(i), got)
		}
	}
	b, _ := json.Marshal(e)
	var back Encoder
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	m2, _ := back.Transform(train)
	for k := range m.Data {
		if math.Float64bits(m.Data[k]) != math.Float64bits(m2.Data[k]) {
			t.Fatal("save/load changed the encoding")
		}
	}

	serve := frame.MustNew(
		frame.NewInt("age", []int64{30, 40}), // int for float: coerced
		frame.NewFloat("count", []float64{1, 2}),
		frame.NewBool("flag", []bool{true, false}),
		frame.NewString("city", []string{"Rome", "Tokyo"}), // string for categorical; Tokyo unseen
		frame.NewCategorical("note", []string{"w1 w2", "x"}, nil),
		frame.NewTime("ts", []int64{2e18, 3e18}),
		frame.NewFloat("extra", []float64{0, 0}),
	)
	sm, rep, err := e.TransformReport(serve)
	if err != nil {
		t.Fatal(err)
	}
	if sm.At(0, 0) != 30 || sm.At(0, 2) != 1 || sm.At(0, 5) != 2e9 || cols[3].Levels[int(sm.At(0, 3))] != "Rome" || !math.IsNaN(sm.At(1, 3)) {
		t.Errorf("serving row 0 = %v, row 1 = %v", sm.Row(0, nil), sm.Row(1, nil))
	}
	if rep.Unseen["city"] != 1 || rep.Unseen["note"] != 1 {
		t.Errorf("unseen report %v", rep.Unseen)
	}

	tests := []struct {
		name string
		f    *frame.Frame
		want error
		text string
	}{
		{"missing column", mustDrop(serve, "age"), frame.ErrNoColumn, `"age"`},
		{"bad kind", mustWith(serve, frame.NewFloat("ts", []float64{1, 2})), ErrSchema, "was time"},
		{"unparsable", mustWith(serve, frame.NewString("count", []string{"1", "x"})), ErrSchema, `"x"`},
	}
	for _, tt := range tests {
		_, err := e.Transform(tt.f)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: got %v, want %v mentioning %s", tt.name, err, tt.want, tt.text)
		}
	}
}

func mustDrop(f *frame.Frame, n string) *frame.Frame { g, _ := f.Drop(n); return g }
func mustWith(f *frame.Frame, c frame.Column) *frame.Frame {
	g, _ := f.With(c)
	return g
}

func TestEncodeTarget(t *testing.T) {
	f := frame.MustNew(
		frame.NewString("s", []string{"b", "a", "c", "a"}),
		frame.NewInt("i", []int64{10, 2, 2, 10}),
		frame.NewFloat("r", []float64{1.5, 2, 3, 4}),
		frame.NewString("one", []string{"a", "a", "a", "a"}),
		&frame.Float{ColName: "miss", Values: []float64{1, 2, 3, 4}, Valid: frame.Validity{0b1011}},
	)
	y, classes, err := EncodeTarget(f, "s", true)
	if err != nil || !reflect.DeepEqual(classes, []string{"a", "b", "c"}) || !reflect.DeepEqual(y, []float64{1, 0, 2, 0}) {
		t.Errorf("string target: %v %v %v", y, classes, err)
	}
	y, classes, err = EncodeTarget(f, "i", true)
	if err != nil || !reflect.DeepEqual(classes, []string{"2", "10"}) || !reflect.DeepEqual(y, []float64{1, 0, 0, 1}) {
		t.Errorf("int target: %v %v %v", y, classes, err)
	}
	y, classes, err = EncodeTarget(f, "r", false)
	if err != nil || classes != nil || y[0] != 1.5 {
		t.Errorf("regression target: %v %v %v", y, classes, err)
	}
	for _, c := range []struct {
		col   string
		class bool
		text  string
	}{{"one", true, "1 class"}, {"miss", false, "row 3"}, {"s", false, "numeric"}, {"nope", true, "no such column"}} {
		if _, _, err := EncodeTarget(f, c.col, c.class); err == nil || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: got %v, want error mentioning %q", c.col, err, c.text)
		}
	}
	sc, _ := f.Column("s")
	if _, err := EncodeLabels(sc, []string{"a", "b"}); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("unseen label: %v", err)
	}
}

// TestColumnSource checks that the matrix given one column at a time is
// Transform's bit for bit, and that the schema is checked up front.
func TestColumnSource(t *testing.T) {
	train := mixedFrame(300, 2)
	if err := train.SetRole("y", frame.RoleTarget); err != nil {
		t.Fatal(err)
	}
	e, err := FitEncoder(train, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Transform(train)
	if err != nil {
		t.Fatal(err)
	}
	encode, err := e.ColumnSource(train)
	if err != nil {
		t.Fatal(err)
	}
	col := make([]float64, m.Rows)
	for j := range m.Cols {
		if err := encode(j, col); err != nil {
			t.Fatal(err)
		}
		for i, v := range m.Col(j) {
			if math.Float64bits(v) != math.Float64bits(col[i]) {
				t.Fatalf("column %d row %d: %v, Transform gave %v", j, i, col[i], v)
			}
		}
	}
	if err := encode(0, col[:10]); err == nil || !strings.Contains(err.Error(), `"age"`) {
		t.Errorf("a short buffer: %v, want an error naming the column", err)
	}
	if err := encode(m.Cols, col); err == nil {
		t.Error("a column past the last encoded")
	}
	short := frame.MustNew(frame.NewFloat("count", make([]float64, 3)))
	if _, err := e.ColumnSource(short); !errors.Is(err, frame.ErrNoColumn) || !strings.Contains(err.Error(), `"age"`) {
		t.Errorf("a frame without the age column: %v, want frame.ErrNoColumn naming it", err)
	}
}

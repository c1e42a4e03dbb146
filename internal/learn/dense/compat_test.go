package dense_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

// TestFormat1Models decodes k-NN, linear, MLP and k-means models written
// before the four learners shared this encoder (testdata/format1.json:
// fitted on learntest.Toy(task, 120, 3) by commit ea4b1b9, each with the
// predictions it made on learntest.Toy(task, 30, 11)) and checks that they
// predict the same bits.
func TestFormat1Models(t *testing.T) {
	b, err := os.ReadFile("testdata/format1.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, Kind  string
		Task        learn.Task
		Model       []byte
		Pred, Proba []float64
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("%d fixtures, want 10", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			m, err := learn.DecodeModel(c.Kind, c.Model)
			if err != nil {
				t.Fatal(err)
			}
			q := learntest.Toy(c.Task, 30, 11)
			pred, err := m.Predict(q.X)
			if err != nil {
				t.Fatal(err)
			}
			same(t, "prediction", pred, c.Pred)
			if c.Proba != nil {
				p, err := m.(learn.Prober).PredictProba(q.X)
				if err != nil {
					t.Fatal(err)
				}
				same(t, "probability", p, c.Proba)
			}
		})
	}
}

func same(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d %ss, want %d", len(got), what, len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

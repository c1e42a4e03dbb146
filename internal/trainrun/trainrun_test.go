package trainrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/train"
)

const titanic = "../../examples/data/titanic/titanic"

func load(ctx context.Context, src string) (*frame.Frame, error) {
	return ingest.Read(ctx, src, ingest.Options{})
}

// untracked is a run whose backend cannot be opened.
func untracked(t *testing.T, out string, warned *[]string) Common {
	t.Helper()
	return Common{Source: titanic + ".train.csv", Test: titanic + ".test.csv", Target: "Survived", Seed: 1, Out: out, Load: load,
		Open:  func(context.Context) (*Backend, error) { return nil, errors.New("no store here") },
		Warnf: func(format string, args ...any) { *warned = append(*warned, fmt.Sprintf(format, args...)) }}
}

// TestTrainUntracked trains, scores the splits, stores the drift
// reference and saves the bundle when the run cannot be logged, which is a
// warning.
func TestTrainUntracked(t *testing.T) {
	out := filepath.Join(t.TempDir(), "titanic.gyre")
	var warned []string
	res, err := Train(context.Background(), TrainOptions{Common: untracked(t, out, &warned), Learner: "gbdt", Params: map[string]string{"n_estimators": "20"}, CV: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != out || res.Task != "binary" || res.RunID != "" || res.Comparison == nil {
		t.Errorf("result %+v: want the model at %s, a binary task, no run and a comparison", res, out)
	}
	for _, split := range []string{"train", "test"} {
		if res.Metrics[split]["roc_auc"] < 0.7 {
			t.Errorf("%s roc_auc %v, want at least 0.7", split, res.Metrics[split]["roc_auc"])
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "not tracking this run: no store here") {
		t.Errorf("warnings %q, want one saying the run is not tracked", warned)
	}
	b, err := bundle.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Profile) == 0 {
		t.Error("the bundle has no drift reference")
	}
}

// TestRegisterNeedsTheStore: a model to be registered fails when the
// backend cannot be opened, before anything is fitted or written.
func TestRegisterNeedsTheStore(t *testing.T) {
	out := filepath.Join(t.TempDir(), "titanic.gyre")
	var warned []string
	c := untracked(t, out, &warned)
	c.Register = "titanic"
	if _, err := Train(context.Background(), TrainOptions{Common: c, Learner: "gbdt"}); err == nil || !strings.Contains(err.Error(), "no store here") {
		t.Fatalf("error %v, want the store's", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the bundle was written: %v", err)
	}
}

// TestProblemError: a target that is not a column is a ProblemError
// naming the command and source.
func TestProblemError(t *testing.T) {
	var warned []string
	c := untracked(t, filepath.Join(t.TempDir(), "m.gyre"), &warned)
	c.Target = "nope"
	_, err := Train(context.Background(), TrainOptions{Common: c, Learner: "gbdt"})
	var pe *ProblemError
	if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "train "+titanic+".train.csv: ") {
		t.Fatalf("error %v, want a ProblemError naming train and the source", err)
	}
}

// TestBudgetSpent: a budget used up by reading the data is refused
// before the search starts.
func TestBudgetSpent(t *testing.T) {
	f, err := load(context.Background(), titanic+".train.csv")
	if err != nil {
		t.Fatal(err)
	}
	p, err := train.NewProblem(f, "Survived", 0)
	if err != nil {
		t.Fatal(err)
	}
	var opts train.SearchOptions
	_, _, err = searchDeadline(context.Background(), time.Now().Add(-time.Second), time.Second, p, &opts, split{}, split{})
	var be *BudgetSpentError
	if !errors.As(err, &be) || be.Budget != time.Second || !strings.HasPrefix(err.Error(), "reading the data took ") {
		t.Fatalf("error %v, want a BudgetSpentError", err)
	}
}

// Package traintest fits real models for the tests of packages that need a
// bundle (serving, monitoring, the API and its client, batch scoring).
package traintest

import (
	"context"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/all" // the learners Fit names
	"github.com/gyre-ml/gyre/internal/train"
)

// Fit reads the data file at path (through ingest, as the commands do) and
// fits a model of its column target with opts, the task inferred from the
// target. Any error fails tb.
func Fit(tb testing.TB, path, target string, opts train.Options) *bundle.Bundle {
	tb.Helper()
	f, err := ingest.Read(context.Background(), path, ingest.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := train.NewProblem(f, target, learn.TaskInvalid)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := train.Fit(context.Background(), p, opts)
	if err != nil {
		tb.Fatalf("fit %s on %s: %v", opts.Learner, path, err)
	}
	return b
}

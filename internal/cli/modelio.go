package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	_ "github.com/gyre-ml/gyre/internal/ingest/cassandrasource" // cassandra:// sources
	_ "github.com/gyre-ml/gyre/internal/ingest/kafkasource"     // kafka:// sources and destinations
	_ "github.com/gyre-ml/gyre/internal/ingest/mongosource"     // mongodb:// sources and destinations
	"github.com/gyre-ml/gyre/internal/learn"
)

// loadFrame reads a data source with default options, sending ingest's
// notes to stderr unless output is JSON or quiet.
func (a *App) loadFrame(ctx context.Context, source string) (*frame.Frame, error) {
	opt := ingest.Options{Stdin: a.Stdin, RenameDuplicates: a.RenameDuplicates, API: a.API}
	if !a.JSON && !a.Quiet {
		opt.Warn = func(msg string) { fmt.Fprintf(a.Stderr, "gyre: note: %s\n", msg) }
	}
	f, err := ingest.Read(ctx, source, opt)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// parseTask parses --task ("" = detect).
func parseTask(s string) (learn.Task, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return learn.TaskInvalid, nil
	case "classification":
		return learn.Binary, nil
	}
	t, err := learn.ParseTask(strings.ToLower(s))
	if err != nil {
		return 0, usageErrorf("--task: %v", err)
	}
	return t, nil
}

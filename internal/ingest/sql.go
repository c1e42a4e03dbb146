package ingest

import (
	"context"
	"fmt"

	"github.com/gyre-ml/gyre/internal/frame"
)

// readSQL reads a sqlite:// or postgres:// URL naming a table or query.
func readSQL(ctx context.Context, source string) (*frame.Frame, error) {
	_ = ctx
	return nil, fmt.Errorf("read %s: %w: SQL sources are not built into this binary yet", source, ErrFormat)
}

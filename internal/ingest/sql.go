package ingest

import (
	"context"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/sqlsource"
)

// readSQL reads a sqlite:// or postgres:// URL naming a table (?table=T) or a
// query (?query=...) through package sqlsource.
func readSQL(ctx context.Context, source string) (*frame.Frame, error) {
	return sqlsource.Read(ctx, source)
}

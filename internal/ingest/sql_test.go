package ingest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/ingest/sqlsource"
)

// TestReadSQLite loads adult into SQLite and reads it back through Read's
// URL dispatch, schema overrides included: the same frame as the CSV.
func TestReadSQLite(t *testing.T) {
	p := frametest.Example(t, "adult", "adult.train.csv")
	ctx := context.Background()
	want, err := Read(ctx, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	url := "sqlite://" + filepath.Join(t.TempDir(), "adult.db")
	if err := sqlsource.Write(ctx, url, "adult", want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(ctx, url+"?table=adult", Options{Schema: map[string]FieldOverride{"class": {Role: frame.RoleTarget}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := equalFrames(want, got); err != nil {
		t.Fatal(err)
	}
	if got.Role(got.Index("class")) != frame.RoleTarget {
		t.Error("schema role not applied to the SQL source")
	}
	if _, err := Read(ctx, url+"?table=nope", Options{}); err == nil {
		t.Error("reading a missing table succeeded")
	}
}

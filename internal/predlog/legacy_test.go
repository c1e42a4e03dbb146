package predlog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// legacyTables are the prediction log tables of migrations 0003 and 0004.
var legacyTables = []struct{ table, col string }{
	{"prediction_batches", "records"}, {"feedback_batches", "records"},
	{"prediction_chunks", "data"}, {"feedback_chunks", "data"},
}

// openFixture copies testdata/predlog/legacy-0004.db, a store that gyre
// 48bb7f5 wrote (testdata/predlog/legacyfixture.go.txt), and opens it.
func openFixture(t *testing.T) *sqlstore.DB {
	t.Helper()
	src, err := os.Open(filepath.Join("..", "..", "testdata", "predlog", "legacy-0004.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "gyre.db")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	db, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// goldenRow is a row as the old code's Log.Predictions returned it.
type goldenRow struct {
	Version   string         `json:"version"`
	RequestID string         `json:"request_id"`
	Row       int32          `json:"row"`
	Time      time.Time      `json:"time"`
	Input     map[string]any `json:"input"`
	Output    struct {
		Prediction    any                `json:"prediction"`
		Probabilities map[string]float64 `json:"probabilities"`
	} `json:"output"`
	Label any `json:"label"`
}

// TestLegacyStore monitors a store written by the old code: text batches
// (0003) and columnar chunks (0004) are converted to Parquet batches and
// feedback rows once, and read back as the old code read them.
func TestLegacyStore(t *testing.T) {
	fixture := openFixture(t)
	logs := map[string]struct {
		db     *sqlstore.DB
		suffix string
	}{"sqlite": {fixture, ""}}
	if url := os.Getenv("GYRE_TEST_POSTGRES"); url != "" {
		pg, err := sqlstore.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		suffix := fmt.Sprintf("-%d", time.Now().UnixNano()) // PostgreSQL stores outlive a test
		copyLegacy(t, fixture, pg, suffix)
		logs["postgres"] = struct {
			db     *sqlstore.DB
			suffix string
		}{pg, suffix}
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "predlog", "legacy-0004.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Titanic []goldenRow    `json:"titanic"`
		Bike    []goldenRow    `json:"bike"`
		Count   map[string]int `json:"count"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	// the PostgreSQL copy is made before the SQLite store upgrades
	for _, name := range []string{"postgres", "sqlite"} {
		st, ok := logs[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			blobs, err := blob.OpenDir(filepath.Join(t.TempDir(), "artifacts"))
			if err != nil {
				t.Fatal(err)
			}
			l := New(st.db, blobs)
			schema := frame.Schema{Fields: []frame.Field{{Name: "x", Kind: frame.KindFloat}, {Name: "c", Kind: frame.KindCategorical},
				{Name: "n", Kind: frame.KindInt}, {Name: "b", Kind: frame.KindBool}}}
			got, err := l.Read(ctx, Query{Model: "titanic" + st.suffix}, schema, []string{"0", "1"})
			if err != nil {
				t.Fatal(err)
			}
			sameAsGolden(t, got, golden.Titanic, schema)
			preds, labels, err := l.Count(ctx, "titanic"+st.suffix, time.Time{})
			if err != nil || preds != golden.Count["predictions"] || labels != golden.Count["labels"] {
				t.Errorf("count %d %d %v, want %v", preds, labels, err, golden.Count)
			}
			bike, err := l.Read(ctx, Query{Model: "bike" + st.suffix}, frame.Schema{Fields: []frame.Field{{Name: "hr", Kind: frame.KindFloat}}}, nil)
			if err != nil || bike.Len() != 1 || bike.Pred.Values[0] != 12.5 || bike.Input.Col(0).Format(0) != "3" {
				t.Errorf("bike: %v %+v", err, bike)
			}
			v1, err := l.Read(ctx, Query{Model: "titanic" + st.suffix, Version: "1"}, schema, []string{"0", "1"})
			if err != nil || v1.Len() != 12 {
				t.Errorf("version 1: %v, %d rows", err, v1.Len())
			}
			// converted once: the old tables are empty, a new log reads the same
			if name == "sqlite" {
				for _, lt := range legacyTables {
					var n int
					if err := st.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+lt.table).Scan(&n); err != nil || n != 0 {
						t.Errorf("%s: %d rows left, %v", lt.table, n, err)
					}
				}
			}
			again, err := New(st.db, blobs).Read(ctx, Query{Model: "titanic" + st.suffix}, schema, []string{"0", "1"})
			if err != nil || again.Len() != got.Len() || again.Labeled != got.Labeled {
				t.Errorf("second read: %v, %d rows", err, again.Len())
			}
		})
	}
}

// copyLegacy copies the old tables' rows of the fixture into another
// store, model names suffixed.
func copyLegacy(t *testing.T, from, to *sqlstore.DB, suffix string) {
	ctx := context.Background()
	for _, lt := range legacyTables {
		rows, err := from.QueryContext(ctx, "SELECT id, model, min_time_ms, max_time_ms, n, "+lt.col+" FROM "+lt.table)
		if err != nil {
			t.Fatal(err)
		}
		type oldRow struct {
			id, model string
			lo, hi, n int64
			data      []byte
		}
		var all []oldRow
		for rows.Next() {
			var r oldRow
			if err := rows.Scan(&r.id, &r.model, &r.lo, &r.hi, &r.n, &r.data); err != nil {
				t.Fatal(err)
			}
			all = append(all, r)
		}
		rows.Close()
		err = to.Write(ctx, func(tx *sqlstore.Tx) error {
			for _, r := range all {
				var data any = r.data
				if lt.col == "records" {
					data = string(r.data)
				}
				if _, err := tx.ExecContext(ctx, "INSERT INTO "+lt.table+" (id, model, min_time_ms, max_time_ms, n, "+lt.col+") VALUES (?, ?, ?, ?, ?, ?)",
					r.id+suffix, r.model+suffix, r.lo, r.hi, r.n, data); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sameAsGolden compares what Read gave with the old code's rows.
func sameAsGolden(t *testing.T, got *Logged, want []goldenRow, schema frame.Schema) {
	t.Helper()
	if got.Len() != len(want) {
		t.Fatalf("%d rows, want %d", got.Len(), len(want))
	}
	for j, w := range want {
		if got.RequestID[j] != w.RequestID || got.Row[j] != w.Row || got.Time[j] != w.Time.UnixNano() {
			t.Fatalf("row %d: %s/%d at %v, want %s/%d at %v", j, got.RequestID[j], got.Row[j], time.Unix(0, got.Time[j]).UTC(), w.RequestID, w.Row, w.Time)
		}
		for k, fd := range schema.Fields {
			c := got.Input.Col(k)
			wantText := ""
			switch v := w.Input[fd.Name].(type) {
			case float64:
				wantText = strconv.FormatFloat(v, 'g', -1, 64)
			case string:
				wantText = v
			case bool:
				wantText = strconv.FormatBool(v)
			}
			if c.Format(j) != wantText || c.IsNull(j) != (wantText == "") {
				t.Errorf("row %d %s: got %q, want %q", j, fd.Name, c.Format(j), wantText)
			}
		}
		cls, _ := strconv.Atoi(fmt.Sprint(w.Output.Prediction))
		if got.Pred.Values[j] != float64(cls) || got.Pred.Proba[2*j] != w.Output.Probabilities["0"] || got.Pred.Proba[2*j+1] != w.Output.Probabilities["1"] {
			t.Errorf("row %d: prediction %v %v, want %v %v", j, got.Pred.Values[j], got.Pred.Proba[2*j:2*j+2], w.Output.Prediction, w.Output.Probabilities)
		}
		wantLabel := ""
		if w.Label != nil {
			wantLabel = fmt.Sprint(w.Label)
		}
		if got.Labels[j] != wantLabel {
			t.Errorf("row %d: label %q, want %q", j, got.Labels[j], wantLabel)
		}
	}
}

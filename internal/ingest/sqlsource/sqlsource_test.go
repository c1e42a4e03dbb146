package sqlsource

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

func sqliteURL(t *testing.T) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
}

// uniqueTable returns a table name no concurrent test run uses.
func uniqueTable(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), time.Now().UnixNano())
}

func roundTrip(t *testing.T, base string, f *frame.Frame) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	table := uniqueTable("gyre_test")
	if err := Write(ctx, base, table, f); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(base, "postgres") {
		t.Cleanup(func() { dropPostgres(t, base, table) })
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	for _, u := range []string{
		base + sep + "table=" + table,
		base + sep + "query=" + strings.ReplaceAll("SELECT * FROM "+table, " ", "%20"),
	} {
		got, err := Read(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		frametest.AssertEqual(t, got, f)
	}
}

func dropPostgres(t *testing.T, url, table string) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Log(err)
		return
	}
	defer db.Close()
	if _, err := db.Exec("DROP TABLE IF EXISTS " + table); err != nil {
		t.Log(err)
	}
}

func TestSQLiteAdult(t *testing.T) {
	f := frametest.LoadAdult(t, frametest.Example(t, "adult", "adult.train.csv"))
	roundTrip(t, sqliteURL(t), f)
}

func TestPostgresAdult(t *testing.T) {
	url := os.Getenv("GYRE_TEST_POSTGRES")
	if url == "" {
		t.Skip("GYRE_TEST_POSTGRES not set")
	}
	roundTrip(t, url, frametest.LoadAdult(t, frametest.Example(t, "adult", "adult.train.csv")))
}

// kindsFrame holds every kind with missing values, in forms that survive both
// databases (microsecond times, no NaN, high-cardinality free text).
func kindsFrame() *frame.Frame {
	n := 200
	fl := &frame.Float{ColName: "f", Values: make([]float64, n), Valid: frame.NewValidity(n)}
	in := &frame.Int{ColName: "Int col", Values: make([]int64, n), Valid: frame.NewValidity(n)}
	bo := &frame.Bool{ColName: "b", Values: make([]bool, n), Valid: frame.NewValidity(n)}
	st := &frame.String{ColName: "s", Values: make([]string, n), Valid: frame.NewValidity(n)}
	tm := &frame.Time{ColName: "t", Values: make([]int64, n), Valid: frame.NewValidity(n)}
	vals, miss := make([]string, n), make([]bool, n)
	for i := range n {
		fl.Values[i] = float64(i)*0.1 - 3
		in.Values[i] = int64(i) - math.MaxInt64/3
		bo.Values[i] = i%3 == 0
		st.Values[i] = fmt.Sprintf("note %d: it's \"quoted\" ✓", i)
		tm.Values[i] = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*36*time.Hour + 123456*time.Microsecond).UnixNano()
		vals[i] = []string{"low", "mid", "high"}[i%3]
		miss[i] = i%11 == 0
		if i%7 == 0 {
			fl.Valid.SetNull(i)
			in.Valid.SetNull(i)
			bo.Valid.SetNull(i)
			st.Valid.SetNull(i)
			tm.Valid.SetNull(i)
		}
	}
	return frame.MustNew(fl, in, bo, st, frame.NewCategorical("level", vals, miss), tm)
}

func TestSQLiteKinds(t *testing.T) { roundTrip(t, sqliteURL(t), kindsFrame()) }

func TestPostgresKinds(t *testing.T) {
	url := os.Getenv("GYRE_TEST_POSTGRES")
	if url == "" {
		t.Skip("GYRE_TEST_POSTGRES not set")
	}
	roundTrip(t, url, kindsFrame())
}

func TestSQLiteNanoseconds(t *testing.T) {
	f := frame.MustNew(frame.NewTime("t", []int64{1_700_000_000_123_456_789, -5}))
	roundTrip(t, sqliteURL(t), f)
}

// TestSQLiteDynamicTypes reads a table made by hand, with SQLite's loose
// typing: declared types that the values do not match, and untyped columns.
func TestSQLiteDynamicTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dyn.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{
		`CREATE TABLE m (a INTEGER, b, c TEXT, d DATETIME, e BOOLEAN, g NUMERIC, h VARCHAR(10))`,
		`INSERT INTO m VALUES (1, 1, 'x', '2024-01-02 03:04:05', 1, 2, 'p')`,
		`INSERT INTO m VALUES (2.5, 'two', 'x', '2024-01-03', 0, 2.5, 'q')`,
		`INSERT INTO m VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
		`INSERT INTO m VALUES (4, 4, 'y', '2024-01-04T00:00:00Z', 1, 7, 'r')`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	f, err := Read(context.Background(), "sqlite://"+path+"?query=SELECT a, b, c, d, e, g, h, a*2 AS a2, 'k' AS konst FROM m")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]frame.Kind{"a": frame.KindFloat, "b": frame.KindString, "c": frame.KindString, "d": frame.KindTime,
		"e": frame.KindBool, "g": frame.KindFloat, "h": frame.KindString, "a2": frame.KindFloat, "konst": frame.KindCategorical}
	for name, k := range want {
		c, err := f.Column(name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind() != k {
			t.Errorf("column %s: got kind %s, want %s", name, c.Kind(), k)
		}
		if !c.IsNull(2) && name != "konst" {
			t.Errorf("column %s: row 3 should be missing", name)
		}
	}
	d, _ := f.Column("d")
	if got := d.Format(1); got != "2024-01-03T00:00:00Z" {
		t.Errorf("d row 2: got %s", got)
	}
	a, _ := f.Column("a")
	if got := a.Format(1); got != "2.5" {
		t.Errorf("a row 2: got %s", got)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	base := sqliteURL(t)
	if err := Write(ctx, base, "present", frame.MustNew(frame.NewInt("x", []int64{1}))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		url  string
		want []string
		is   error
	}{
		{"missing table", base + "?table=absent", []string{"absent", "no such table"}, nil},
		{"bad query", base + "?query=SELEKT%201", []string{"SELEKT", "syntax error"}, nil},
		{"bad identifier", base + "?table=present%3BDROP%20TABLE%20present", []string{"present;DROP"}, ErrBadIdentifier},
		{"raw semicolon", base + "?table=present;DROP%20TABLE%20present", []string{"semicolon"}, nil},
		{"quoted identifier", base + `?table="x"`, []string{"invalid table name"}, ErrBadIdentifier},
		{"neither", base, []string{"exactly one"}, nil},
		{"both", base + "?table=present&query=SELECT%201", []string{"exactly one"}, nil},
		{"missing file", "sqlite://" + filepath.Join(t.TempDir(), "nope.db") + "?table=t", []string{"nope.db"}, nil},
		{"scheme", "mysql://h/db?table=t", []string{"unsupported", "mysql"}, nil},
		{"not a url", "data.db", []string{"not a SQL URL"}, nil},
		{"unreachable", "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&table=t", []string{"127.0.0.1:1", "table \"t\""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			start := time.Now()
			_, err := Read(ctx, tt.url)
			if err == nil {
				t.Fatal("got nil error")
			}
			if time.Since(start) > 12*time.Second {
				t.Errorf("took %v to fail", time.Since(start))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q leaks the password", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
		})
	}
	// The bad identifier never reached the database.
	if _, err := Read(ctx, base+"?table=present"); err != nil {
		t.Fatal(err)
	}
	// Writing over an existing table, or under a bad name, fails.
	if err := Write(ctx, base, "present", frame.MustNew(frame.NewInt("x", []int64{1}))); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("write over existing table: got %v", err)
	}
	if err := Write(ctx, base, "a b", frame.MustNew(frame.NewInt("x", []int64{1}))); !errors.Is(err, ErrBadIdentifier) {
		t.Errorf("write under bad name: got %v", err)
	}
}

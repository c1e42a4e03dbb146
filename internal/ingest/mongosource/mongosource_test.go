package mongosource

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func TestReadFlattensAndTypes(t *testing.T) {
	server, db, c := testDB(t)
	ctx := context.Background()
	when := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	docs := []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "ann"}, {Key: "age", Value: int32(31)}, {Key: "score", Value: 2},
			{Key: "addr", Value: bson.D{{Key: "city", Value: "Paris"}, {Key: "geo", Value: bson.D{{Key: "lat", Value: 48.85}}}}},
			{Key: "tags", Value: bson.A{"a", "b"}}, {Key: "active", Value: true}, {Key: "seen", Value: when}},
		bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "bob"}, {Key: "age", Value: int64(40)}, {Key: "score", Value: 2.5},
			{Key: "addr", Value: bson.D{{Key: "city", Value: "Lyon"}}}, {Key: "tags", Value: bson.A{"c"}}, {Key: "active", Value: false}},
		bson.D{{Key: "_id", Value: 3}, {Key: "name", Value: nil}, {Key: "score", Value: 1}},
	}
	if _, err := c.Database(db).Collection("people").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf("%s/%s?collection=people", server, db)
	f, err := ingest.Read(ctx, src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]frame.Kind{"_id": frame.KindInt, "name": frame.KindCategorical, "age": frame.KindInt, "score": frame.KindFloat,
		"addr.city": frame.KindCategorical, "addr.geo.lat": frame.KindFloat, "tags": frame.KindCategorical, "active": frame.KindBool, "seen": frame.KindTime}
	if got := f.NumRows(); got != 3 {
		t.Fatalf("rows: got %d, want 3", got)
	}
	for n, k := range want {
		col, err := f.Column(n)
		if err != nil {
			t.Fatalf("column %s: %v (have %v)", n, err, f.Names())
		}
		if col.Kind() != k {
			t.Errorf("column %s: got %s, want %s", n, col.Kind(), k)
		}
	}
	if f.NumCols() != len(want) {
		t.Errorf("columns: got %v", f.Names())
	}
	check := func(col string, row int, want string) {
		t.Helper()
		c, _ := f.Column(col)
		if got := c.Format(row); got != want {
			t.Errorf("%s[%d]: got %q, want %q", col, row, got, want)
		}
	}
	check("score", 0, "2")
	check("score", 1, "2.5")
	check("addr.geo.lat", 0, "48.85")
	check("addr.geo.lat", 1, "")
	check("tags", 0, `["a","b"]`)
	check("name", 2, "")
	check("age", 2, "")
	tc, _ := f.Column("seen")
	if got := tc.(*frame.Time).At(0); !got.Equal(when) {
		t.Errorf("seen[0]: got %v, want %v", got, when)
	}

	// Exploded arrays, a filter and a projection.
	f, err = ingest.Read(ctx, src+`&arrays=explode&filter={"score":{"$gte":2}}&projection={"tags":1,"name":1}`, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), ","); got != "_id,name,tags.0,tags.1" {
		t.Errorf("exploded columns: got %s", got)
	}
	if f.NumRows() != 2 {
		t.Errorf("filtered rows: got %d, want 2", f.NumRows())
	}
	c1, _ := f.Column("tags.1")
	if c1.Format(0) != "b" || c1.Format(1) != "" {
		t.Errorf("tags.1: got %q %q", c1.Format(0), c1.Format(1))
	}
}

// TestTypeChangeAfterSample: a field that is an integer in the first
// 50,000 documents and text in document 50,001 is an error naming the
// document's _id and the field, and no frame is returned.
func TestTypeChangeAfterSample(t *testing.T) {
	server, db, c := testDB(t)
	ctx := context.Background()
	const n = 50001
	docs := make([]any, 0, 5000)
	coll := c.Database(db).Collection("events")
	for i := 1; i <= n; i++ {
		var v any = int64(i % 97)
		if i == n {
			v = "ninety"
		}
		docs = append(docs, bson.D{{Key: "_id", Value: fmt.Sprintf("ev-%06d", i)}, {Key: "reading", Value: v}, {Key: "site", Value: fmt.Sprintf("s%d", i%7)}})
		if len(docs) == cap(docs) || i == n {
			if _, err := coll.InsertMany(ctx, docs); err != nil {
				t.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	src := fmt.Sprintf("%s/%s?collection=events", server, db)
	f, err := ingest.Read(ctx, src, ingest.Options{})
	var pe *ingest.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v (frame %v), want a *ingest.ParseError", err, f != nil)
	}
	if f != nil {
		t.Error("a frame came back with the error")
	}
	if pe.Row != n || pe.Column != "reading" || !errors.Is(err, ingest.ErrType) {
		t.Errorf("got row %d column %q (%v), want row %d column reading wrapping ErrType", pe.Row, pe.Column, err, n)
	}
	for _, s := range []string{`"ev-050001"`, `"ninety"`, "first 10000 documents", "--schema"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
	// Streaming reports the same document.
	chunks := 0
	err = ingest.Stream(ctx, src, ingest.Options{}, 20000, func(c *ingest.Chunk) error { chunks++; return nil })
	if !errors.As(err, &pe) || pe.Row != n {
		t.Errorf("stream: got %v, want the error at document %d", err, n)
	}
	if chunks != 2 {
		t.Errorf("stream delivered %d chunks before the bad document, want 2", chunks)
	}
	// A sample that covers the change reads it as text.
	f, err = ingest.Read(ctx, src+"&sample=60000", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k := f.Col(f.Index("reading")).Kind(); k != frame.KindCategorical && k != frame.KindString {
		t.Errorf("reading with the whole sample: got %s, want text", k)
	}
}

func TestStreamChunksKeepKinds(t *testing.T) {
	server, db, c := testDB(t)
	ctx := context.Background()
	var docs []any
	for i := range 2500 {
		d := bson.D{{Key: "i", Value: i}, {Key: "x", Value: float64(i) / 4}, {Key: "g", Value: fmt.Sprintf("g%d", i%5)}}
		if i%3 == 0 {
			d = append(d, bson.E{Key: "opt", Value: i})
		}
		if i == 2400 {
			d = append(d, bson.E{Key: "late", Value: 1})
		}
		docs = append(docs, d)
	}
	if _, err := c.Database(db).Collection("m").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	var kinds []frame.Kind
	rows := 0
	var warned []string
	err := ingest.Stream(ctx, fmt.Sprintf("%s/%s?collection=m", server, db), ingest.Options{Warn: func(m string) { warned = append(warned, m) }}, 1000, func(ch *ingest.Chunk) error {
		if ch.Row != rows {
			t.Errorf("chunk row %d, want %d", ch.Row, rows)
		}
		rows += ch.Frame.NumRows()
		var ks []frame.Kind
		for _, col := range ch.Frame.Columns() {
			ks = append(ks, col.Kind())
		}
		if kinds == nil {
			kinds = ks
		} else if fmt.Sprint(ks) != fmt.Sprint(kinds) {
			t.Errorf("chunk at %d: kinds %v, first chunk %v", ch.Row, ks, kinds)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 2500 {
		t.Errorf("rows: got %d", rows)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], `"late"`) {
		t.Errorf("warnings: %q, want one about the late field", warned)
	}
}

func TestWriteBackAndReplace(t *testing.T) {
	server, db, c := testDB(t)
	ctx := context.Background()
	f, err := frame.New(
		frame.NewString("_id", []string{"a", "b", "c"}),
		&frame.Float{ColName: "proba.yes", Values: []float64{0.25, math.NaN(), 0.75}, Valid: validity(3, 1)},
		frame.NewCategorical("prediction", []string{"no", "no", "yes"}, nil),
		frame.NewInt("n", []int64{1, 2, 3}),
		frame.NewTime("at", []int64{0, 1e9, 2e9}),
	)
	if err != nil {
		t.Fatal(err)
	}
	dest := fmt.Sprintf("%s/%s?collection=preds", server, db)
	if err := ingest.Write(ctx, f, dest); err != nil {
		t.Fatal(err)
	}
	got, err := c.Database(db).Collection("preds").FindOne(ctx, bson.D{{Key: "_id", Value: "c"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := got.Lookup("proba", "yes").DoubleOK(); !ok || p != 0.75 || got.Lookup("prediction").StringValue() != "yes" || got.Lookup("n").Int64() != 3 {
		t.Errorf("document c: got %v", got)
	}
	if _, err := got.LookupErr("proba.yes"); err == nil {
		t.Errorf("document c has a dotted key: %v", got)
	}
	back, err := ingest.Read(ctx, dest, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if back.NumRows() != 3 || back.Col(back.Index("proba.yes")).Format(1) != "" || back.Col(back.Index("at")).Format(2) != f.Col(4).Format(2) {
		t.Errorf("read back: %v rows, proba.yes[1]=%q", back.NumRows(), back.Col(back.Index("proba.yes")).Format(1))
	}

	// The target exists: refused, and nothing else appears.
	err = ingest.Write(ctx, f, dest)
	if err == nil || !strings.Contains(err.Error(), "replace=true") {
		t.Errorf("second write: got %v, want a refusal naming replace=true", err)
	}
	if err := ingest.Write(ctx, f.Slice(0, 1), dest+"&replace=true"); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Database(db).Collection("preds").CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("after replace: %d documents, want 1", n)
	}

	// An aborted write leaves nothing behind.
	w, err := ingest.Create(fmt.Sprintf("%s/%s?collection=never", server, db))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, f); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	names, _ := c.Database(db).ListCollectionNames(ctx, bson.D{})
	if strings.Join(names, ",") != "preds" {
		t.Errorf("collections after abort: %v, want only preds", names)
	}
}

func validity(n int, nulls ...int) frame.Validity {
	v := frame.NewValidity(n)
	for _, i := range nulls {
		v.SetNull(i)
	}
	return v
}

func TestBadSources(t *testing.T) {
	server, db, c := testDB(t)
	ctx := context.Background()
	c.Database(db).Collection("present").InsertOne(ctx, bson.D{{Key: "a", Value: 1}})

	// A collection that does not exist.
	_, err := ingest.Read(ctx, fmt.Sprintf("%s/%s?collection=absent", server, db), ingest.Options{})
	var me *Error
	if !errors.As(err, &me) || !me.InputError() || !strings.Contains(err.Error(), `no collection "absent"`) || !strings.Contains(err.Error(), "present") {
		t.Errorf("missing collection: got %v", err)
	}

	// A server that is down: a port nothing listens on.
	down := fmt.Sprintf("mongodb://127.0.0.1:%d/x?collection=y&connectTimeoutMS=500&serverSelectionTimeoutMS=1000", freePort(t))
	start := time.Now()
	_, err = ingest.Read(ctx, down, ingest.Options{})
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("server down: got %v", err)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("server down took %s to report", el)
	}

	// Bad URLs.
	for _, u := range []string{server + "/?collection=x", server + "/" + db, server + "/" + db + "?collection=x&filter={bad"} {
		if _, err := ingest.Read(ctx, u, ingest.Options{}); err == nil {
			t.Errorf("%s: no error", u)
		}
	}
}

func TestWrongCredentialsNotEchoed(t *testing.T) {
	// A FerretDB of the test's own, with authentication, whatever
	// GYRE_TEST_MONGODB names.
	addr := startFerret(t, "--test-enable-new-auth", "--setup-database=shop", "--setup-username=gyre", "--setup-password=right-horse", "--setup-timeout=20s")
	ctx := context.Background()
	os.Setenv("GYRE_TEST_MONGO_PW", "wrong-battery-staple")
	defer os.Unsetenv("GYRE_TEST_MONGO_PW")
	src := "mongodb://gyre@" + addr + "/shop?collection=c&password-env=GYRE_TEST_MONGO_PW"
	_, err := ingest.Read(ctx, src, ingest.Options{})
	if err == nil {
		t.Fatal("wrong password: no error")
	}
	if strings.Contains(err.Error(), "wrong-battery-staple") {
		t.Errorf("the password is in the error: %v", err)
	}
	if !strings.Contains(err.Error(), "credentials") {
		t.Errorf("wrong password: got %v, want it to say the credentials were refused", err)
	}
	// A password written into the URL is redacted from errors too.
	_, err = ingest.Read(ctx, "mongodb://gyre:wrong-battery-staple@"+addr+"/shop?collection=c", ingest.Options{})
	if err == nil || strings.Contains(err.Error(), "wrong-battery-staple") {
		t.Errorf("password in URL: got %v", err)
	}
	// The right password reads.
	os.Setenv("GYRE_TEST_MONGO_PW", "right-horse")
	if _, err := ingest.Read(ctx, src, ingest.Options{}); err == nil || !strings.Contains(err.Error(), `no collection "c"`) {
		t.Errorf("right password: got %v, want the missing-collection error (authenticated)", err)
	}
}

package cassandrasource

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// The tests run against the protocol fixture server (fixture_test.go), or
// against a real Cassandra when GYRE_TEST_CASSANDRA=host:port is set: the
// same tables are then created there (keyspaces gyre_test_*) and the
// assertions on the protocol transcript are skipped.

// readings is a table of sensor readings: 40 partitions of 5 rows, with a
// value of each type the source maps.
func readings() *fixTable {
	t := &fixTable{ks: "gyre_test_shop", name: "readings", cols: []fixCol{
		{name: "sensor_id", typ: tVarchar, text: "text", kind: "partition_key", pos: 0},
		{name: "ts", typ: tTimestamp, text: "timestamp", kind: "clustering", pos: 0},
		{name: "attrs", typ: tMap(tVarchar, tInt), text: "map<text, int>", kind: "regular"},
		{name: "big", typ: tVarint, text: "varint", kind: "regular"},
		{name: "count", typ: tInt, text: "int", kind: "regular"},
		{name: "day", typ: tDate, text: "date", kind: "regular"},
		{name: "ip", typ: tInet, text: "inet", kind: "regular"},
		{name: "ok", typ: tBoolean, text: "boolean", kind: "regular"},
		{name: "price", typ: tDecimal, text: "decimal", kind: "regular"},
		{name: "site", typ: tUUID, text: "uuid", kind: "regular"},
		{name: "small", typ: tSmallint, text: "smallint", kind: "regular"},
		{name: "tags", typ: tList(tVarchar), text: "list<text>", kind: "regular"},
		{name: "value", typ: tDouble, text: "double", kind: "regular"},
	}}
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for s := range 40 {
		for k := range 5 {
			id := fmt.Sprintf("s%02d", s)
			var count []byte
			if (s+k)%7 != 3 {
				count = encInt(int32(s*10 + k))
			}
			t.rows = append(t.rows, [][]byte{
				[]byte(id), encTimestamp(base + int64(k)*60000),
				encMap([]byte("floor"), encInt(int32(s%4))),
				encVarint(big.NewInt(int64(s) * -1000003)),
				count,
				encDate(int64(20423 + k)),
				{10, 0, byte(s), byte(k)},
				encBool(k%2 == 0),
				encDecimal(int64(1999+s), 2),
				uuidBytes(byte(s % 3)),
				encSmallint(int16(-s)),
				encList([][]byte{[]byte("zone-" + fmt.Sprint(s%5)), []byte("v2")}),
				encDouble(float64(s) + float64(k)/10),
			})
		}
	}
	return t
}

// target returns the address to read from: a fixture server holding the
// tables, or the real cluster of GYRE_TEST_CASSANDRA with them created.
func target(t *testing.T, tables ...*fixTable) (string, *fixServer) {
	t.Helper()
	if addr := os.Getenv("GYRE_TEST_CASSANDRA"); addr != "" {
		load(t, addr, tables)
		return addr, nil
	}
	fs := newFixServer(t, tables...)
	return fs.addr(), fs
}

// rawValue binds already serialised bytes (gocql.Marshaler).
type rawValue []byte

func (r rawValue) MarshalCQL(gocql.TypeInfo) ([]byte, error) { return r, nil }

// load creates the tables on a real cluster and inserts their rows.
func load(t *testing.T, addr string, tables []*fixTable) {
	cl := gocql.NewCluster(addr)
	cl.ProtoVersion = 4
	cl.Timeout = 30 * time.Second
	sess, err := cl.CreateSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for _, tb := range tables {
		must(t, sess.Query(`CREATE KEYSPACE IF NOT EXISTS `+tb.ks+` WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`).Exec())
		must(t, sess.Query(`DROP TABLE IF EXISTS `+tb.ks+`.`+tb.name).Exec())
		var defs, pk, ck, names, marks []string
		for _, c := range tb.cols {
			defs = append(defs, ident(c.name)+" "+c.text)
			names = append(names, ident(c.name))
			marks = append(marks, "?")
			switch c.kind {
			case "partition_key":
				pk = append(pk, ident(c.name))
			case "clustering":
				ck = append(ck, ident(c.name))
			}
		}
		key := "(" + strings.Join(pk, ", ") + ")"
		if len(ck) > 0 {
			key += ", " + strings.Join(ck, ", ")
		}
		must(t, sess.Query(fmt.Sprintf("CREATE TABLE %s.%s (%s, PRIMARY KEY (%s))", tb.ks, tb.name, strings.Join(defs, ", "), key)).Exec())
		ins := fmt.Sprintf("INSERT INTO %s.%s (%s) VALUES (%s)", tb.ks, tb.name, strings.Join(names, ", "), strings.Join(marks, ", "))
		for _, r := range tb.rows {
			vals := make([]any, len(r))
			for j, v := range r {
				if v == nil {
					vals[j] = nil
				} else {
					vals[j] = rawValue(v)
				}
			}
			must(t, sess.Query(ins, vals...).Exec())
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, url string) *frame.Frame {
	t.Helper()
	f, err := ingest.Read(context.Background(), url, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadTableInTokenRangesWithPaging(t *testing.T) {
	addr, fs := target(t, readings())
	f := read(t, "cassandra://"+addr+"/gyre_test_shop?table=readings&splits=8&page=7&parallel=3")
	if f.NumRows() != 200 {
		t.Fatalf("rows = %d, want 200", f.NumRows())
	}
	want := []struct {
		name string
		kind frame.Kind
	}{{"sensor_id", frame.KindCategorical}, {"ts", frame.KindTime}, {"attrs", frame.KindCategorical}, {"big", frame.KindInt},
		{"count", frame.KindInt}, {"day", frame.KindTime}, {"ip", frame.KindString}, {"ok", frame.KindBool}, {"price", frame.KindFloat},
		{"site", frame.KindCategorical}, {"small", frame.KindInt}, {"tags", frame.KindCategorical}, {"value", frame.KindFloat}}
	if f.NumCols() != len(want) {
		t.Fatalf("columns %v", f.Names())
	}
	for j, w := range want {
		c := f.Col(j)
		if c.Name() != w.name || c.Kind() != w.kind {
			t.Errorf("column %d = %s %s, want %s %s", j, c.Name(), c.Kind(), w.name, w.kind)
		}
	}
	// Every row once; the rows of a partition together, in clustering order.
	ids := col(f, "sensor_id").(*frame.Categorical)
	seen := map[string]int{}
	var last string
	for i := range f.NumRows() {
		id := ids.Levels[ids.Codes[i]]
		if id != last && seen[id] > 0 {
			t.Fatalf("partition %s split at row %d", id, i)
		}
		seen[id]++
		last = id
	}
	if len(seen) != 40 {
		t.Fatalf("%d partitions", len(seen))
	}
	// Spot-check the values of one row: s07, the third reading.
	row := -1
	ts := col(f, "ts").(*frame.Time)
	for i := range f.NumRows() {
		if ids.Levels[ids.Codes[i]] == "s07" && time.Unix(0, ts.Values[i]).UTC().Minute() == 2 {
			row = i
		}
	}
	if row < 0 {
		t.Fatal("no row s07 at 00:02")
	}
	check := func(col string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", col, got, want)
		}
	}
	check("big", col(f, "big").(*frame.Int).Values[row], -7000021)
	check("count", col(f, "count").(*frame.Int).Values[row], 72)
	check("value", col(f, "value").(*frame.Float).Values[row], 7.2)
	check("price", col(f, "price").(*frame.Float).Values[row], 20.06)
	check("ok", col(f, "ok").(*frame.Bool).Values[row], true)
	check("small", col(f, "small").(*frame.Int).Values[row], -7)
	check("day", time.Unix(0, col(f, "day").(*frame.Time).Values[row]).UTC().Format("2006-01-02"), "2025-12-03")
	check("ip", col(f, "ip").(*frame.String).Values[row], "10.0.7.2")
	tags := col(f, "tags").(*frame.Categorical)
	check("tags", tags.Levels[tags.Codes[row]], `["zone-2","v2"]`)
	attrs := col(f, "attrs").(*frame.Categorical)
	check("attrs", attrs.Levels[attrs.Codes[row]], `{"floor":3}`)
	site := col(f, "site").(*frame.Categorical)
	check("site", site.Levels[site.Codes[row]], "550e8400-e29b-41d4-a716-446655440001")
	// Nulls stay missing: count is null where (s+k)%7 == 3.
	if n := col(f, "count").NullCount(); n != 29 {
		t.Errorf("count nulls = %d, want 29", n)
	}
	if fs == nil {
		return
	}

	// The driver's requests: the SELECT built once per range and
	// prepared, each range executed with its token bounds, then paged.
	wantStmt := `SELECT "sensor_id", "ts", "attrs", "big", "count", "day", "ip", "ok", "price", "site", "small", "tags", "value" FROM "gyre_test_shop"."readings" WHERE token("sensor_id") > ? AND token("sensor_id") <= ?`
	prepared := 0
	for _, r := range fs.requests(opPrepare) {
		if r.query == wantStmt {
			prepared++
		}
	}
	if prepared == 0 {
		t.Fatalf("the range SELECT was never prepared; prepared: %v", fs.requests(opPrepare))
	}
	var bounds [][2]int64
	pages := 0
	rowsPaged := 0
	for _, r := range fs.requests(opExecute) {
		if r.query != wantStmt {
			continue
		}
		if r.pageSize != 7 {
			t.Errorf("page size %d, want 7", r.pageSize)
		}
		if r.consistency != uint16(gocql.LocalOne) {
			t.Errorf("consistency %d, want LOCAL_ONE", r.consistency)
		}
		lo, hi := int64(beUint64(r.values[0])), int64(beUint64(r.values[1]))
		if r.pagingState == nil {
			bounds = append(bounds, [2]int64{lo, hi})
		} else {
			pages++
			rowsPaged += 7
		}
	}
	if len(bounds) != 8 {
		t.Fatalf("%d ranges executed, want 8: %v", len(bounds), bounds)
	}
	sortBounds(bounds)
	if bounds[0][0] != math.MinInt64 || bounds[7][1] != math.MaxInt64 {
		t.Errorf("ranges do not cover the ring: %v", bounds)
	}
	for i := 1; i < len(bounds); i++ {
		if bounds[i][0] != bounds[i-1][1] {
			t.Errorf("ranges %d and %d leave a gap or overlap: %v", i-1, i, bounds)
		}
	}
	// 200 rows in 8 ranges of pages of 7: at least 200/7 - 8 follow-up pages.
	if pages < 200/7-8 {
		t.Errorf("only %d follow-up pages", pages)
	}
}

// col returns a frame's column by name.
func col(f *frame.Frame, name string) frame.Column {
	c, err := f.Column(name)
	if err != nil {
		panic(err)
	}
	return c
}

func beUint64(b []byte) uint64 {
	var u uint64
	for _, x := range b {
		u = u<<8 | uint64(x)
	}
	return u
}

func sortBounds(b [][2]int64) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j][0] < b[j-1][0]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
}

func TestStreamMatchesRead(t *testing.T) {
	addr, _ := target(t, readings())
	url := "cassandra://" + addr + "/gyre_test_shop?table=readings&splits=5&page=11"
	whole := read(t, url)
	var rows, chunks int
	var ids []string
	err := ingest.Stream(context.Background(), url, ingest.Options{}, 30, func(c *ingest.Chunk) error {
		if c.Row != rows {
			t.Errorf("chunk at row %d, want %d", c.Row, rows)
		}
		if c.Frame.NumRows() > 30 {
			t.Errorf("chunk of %d rows", c.Frame.NumRows())
		}
		if k := col(c.Frame, "attrs").Kind(); k != frame.KindCategorical {
			t.Errorf("attrs kind %s in chunk %d", k, chunks)
		}
		col := col(c.Frame, "sensor_id").(*frame.Categorical)
		for i := range c.Frame.NumRows() {
			ids = append(ids, col.Levels[col.Codes[i]])
		}
		rows += c.Frame.NumRows()
		chunks++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 200 || chunks < 7 {
		t.Fatalf("%d rows in %d chunks", rows, chunks)
	}
	w := col(whole, "sensor_id").(*frame.Categorical)
	for i, id := range ids {
		if w.Levels[w.Codes[i]] != id {
			t.Fatalf("row %d: stream %s, read %s", i, id, w.Levels[w.Codes[i]])
		}
	}
}

func TestWhereAndColumns(t *testing.T) {
	addr, fs := target(t, readings())
	base := "cassandra://" + addr + "/gyre_test_shop?table=readings"
	// A partition key in where=: one query, no token bounds.
	f := read(t, base+`&columns=value,ok&where="sensor_id"='s03'`)
	if f.NumRows() != 5 || strings.Join(f.Names(), ",") != "value,ok" {
		t.Fatalf("%d rows, columns %v", f.NumRows(), f.Names())
	}
	if fs != nil {
		found := false
		for _, r := range fs.requests(opPrepare) {
			if r.query == `SELECT "sensor_id", "ts", "ok", "value" FROM "gyre_test_shop"."readings" WHERE "sensor_id"='s03'` {
				found = true
			}
		}
		if !found {
			t.Errorf("no single SELECT with the key in where=: %v", fs.requests(opPrepare))
		}
	}
	// A regular column in where= needs ALLOW FILTERING: the server's error
	// names it, with the source.
	_, err := ingest.Read(context.Background(), base+`&where=count=72`, ingest.Options{})
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "ALLOW FILTERING") || !strings.Contains(err.Error(), "cassandra cassandra://") {
		t.Fatalf("want the server's ALLOW FILTERING error naming the source, got %v", err)
	}
	f = read(t, base+`&where=count=72&allow-filtering=true&splits=4`)
	if f.NumRows() != 1 {
		t.Fatalf("filtered read: %d rows", f.NumRows())
	}
	// Options.Columns is pushed down (plus the key) and then selected.
	g, err := ingest.Read(context.Background(), base, ingest.Options{Columns: []string{"small"}})
	if err != nil || g.NumCols() != 1 || g.NumRows() != 200 {
		t.Fatalf("Options.Columns: %v %v", g, err)
	}
}

func TestBadInput(t *testing.T) {
	bad := readings()
	bad.name = "wide"
	bad.rows = bad.rows[:10]
	huge := new(big.Int).Lsh(big.NewInt(1), 70)
	bad.rows[6][3] = encVarint(huge)
	blobs := &fixTable{ks: "gyre_test_shop", name: "blobs", cols: []fixCol{
		{name: "id", typ: tInt, text: "int", kind: "partition_key"},
		{name: "payload", typ: tBlob, text: "blob", kind: "regular"},
		{name: "size", typ: tInt, text: "int", kind: "regular"}},
		rows: [][][]byte{{encInt(1), []byte{1, 2}, encInt(2)}}}
	addr, _ := target(t, bad, blobs)
	ctx := context.Background()
	cases := []struct {
		name, url string
		want      []string
	}{
		{"unknown keyspace", "cassandra://" + addr + "/nope?table=readings", []string{`no keyspace "nope"`, "gyre_test_shop"}},
		{"unknown table", "cassandra://" + addr + "/gyre_test_shop?table=nope", []string{`no table "nope" in keyspace "gyre_test_shop"`, "blobs, wide"}},
		{"blob column", "cassandra://" + addr + "/gyre_test_shop?table=blobs", []string{`column "payload" is blob`, "&columns=id,size", "gyre_test_shop.blobs"}},
		{"varint too big", "cassandra://" + addr + "/gyre_test_shop?table=wide&splits=1", []string{`column "big"`, "varint 1180591620717411303424 does not fit", `sensor_id="s01"`, "ts=2026-12-01T00:01:00Z", "gyre_test_shop.wide"}},
		{"unknown column", "cassandra://" + addr + "/gyre_test_shop?table=wide&columns=nope", []string{`no column "nope"`}},
		{"password in URL", "cassandra://u:hunter2@" + addr + "/gyre_test_shop?table=wide", []string{"password in the URL is refused"}},
		{"no table param", "cassandra://" + addr + "/gyre_test_shop", []string{"want ?table=NAME"}},
		{"unknown param", "cassandra://" + addr + "/gyre_test_shop?table=x&tabel=y", []string{`unknown parameter "tabel"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := ingest.Read(ctx, c.url, ingest.Options{})
			if err == nil {
				t.Fatalf("read %d rows, want an error", f.NumRows())
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error echoes the password: %v", err)
			}
			var ie interface{ InputError() bool }
			var pe *ingest.ParseError
			if !errors.As(err, &pe) && !(errors.As(err, &ie) && ie.InputError()) && !strings.HasPrefix(err.Error(), "cassandra ") {
				t.Errorf("not an input error naming the source: %T %v", err, err)
			}
		})
	}
	// Streaming the bad table fails too, with nothing delivered after the
	// bad row's chunk.
	err := ingest.Stream(ctx, "cassandra://"+addr+"/gyre_test_shop?table=wide&splits=1", ingest.Options{}, 100, func(*ingest.Chunk) error {
		t.Error("a chunk was delivered from a read that fails")
		return nil
	})
	if !errors.Is(err, ingest.ErrType) {
		t.Errorf("stream: %v", err)
	}
}

func TestServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = ingest.Read(context.Background(), "cassandra://"+addr+"/ks?table=t", ingest.Options{})
	var ce *Error
	if !errors.As(err, &ce) || !ce.InputError() || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("want a connect error naming the address, got %v", err)
	}
}

func TestWrongCredentialsNotEchoed(t *testing.T) {
	if os.Getenv("GYRE_TEST_CASSANDRA") != "" {
		t.Skip("needs a cluster with PasswordAuthenticator; the fixture has it")
	}
	fs := newAuthFixServer(t, "analyst", "s3cret-right", readings())
	t.Setenv("GYRE_CASS_PW", "s3cret-wrong")
	url := "cassandra://analyst@" + fs.addr() + "/gyre_test_shop?table=readings&password-env=GYRE_CASS_PW"
	_, err := ingest.Read(context.Background(), url, ingest.Options{})
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("want a credentials error without the password, got %v", err)
	}
	t.Setenv("GYRE_CASS_PW", "s3cret-right")
	if f := read(t, url); f.NumRows() != 200 {
		t.Fatalf("%d rows with the right password", f.NumRows())
	}
	if got := ingest.Redact("cassandra://analyst:pw@h/ks?table=t"); strings.Contains(got, "pw@") {
		t.Errorf("Redact kept the password: %s", got)
	}
}

func TestRanges(t *testing.T) {
	for _, n := range []int{2, 3, 16, 1000} {
		rs := ranges("org.apache.cassandra.dht.Murmur3Partitioner", n)
		if len(rs) != n || rs[0].lo.(int64) != math.MinInt64 || rs[n-1].hi.(int64) != math.MaxInt64 {
			t.Fatalf("murmur3 %d: %v ... %v", n, rs[0], rs[len(rs)-1])
		}
		for i := 1; i < n; i++ {
			if rs[i].lo.(int64) != rs[i-1].hi.(int64) || rs[i].lo.(int64) <= rs[i-1].lo.(int64) {
				t.Fatalf("murmur3 %d: range %d %v after %v", n, i, rs[i], rs[i-1])
			}
		}
		rr := ranges("org.apache.cassandra.dht.RandomPartitioner", n)
		if rr[0].lo.(*big.Int).Int64() != -1 || rr[n-1].hi.(*big.Int).Cmp(new(big.Int).Lsh(big.NewInt(1), 127)) != 0 {
			t.Fatalf("random %d: %v ... %v", n, rr[0], rr[n-1])
		}
	}
	if rs := ranges("org.apache.cassandra.dht.ByteOrderedPartitioner", 8); len(rs) != 1 || rs[0].lo != nil {
		t.Fatalf("byte-ordered: %v", rs)
	}
	if !mentions(`"sensor_id" = 'x'`, []string{"sensor_id"}) || mentions(`note = 'sensor_id'`, []string{"sensor_id"}) || !mentions(`Sensor_ID IN ('a')`, []string{"sensor_id"}) {
		t.Fatal("mentions")
	}
}

func TestMurmur3MatchesCassandra(t *testing.T) {
	// Murmur3Partitioner's hash of known keys (the vectors the driver's
	// own murmur3 is tested with).
	for key, want := range map[string]uint64{
		"hello":        0xcbd8a7b341bd9b02,
		"hello, world": 0x342fac623a5ebc8e,
		"The quick brown fox jumps over the lazy dog.": 0xcd99481f9ee902c9,
	} {
		if got := uint64(murmur3H1([]byte(key))); got != want {
			t.Errorf("token(%q) = %d, want %d", key, got, want)
		}
	}
	// Tail bytes past 0x7f are sign-extended, as in Cassandra's Java.
	key, _ := hex.DecodeString("00104327529fb645dd00b883ec39ae448bb800000400066a6b00")
	if got := murmur3H1(key); got != -9223371632693506265 {
		t.Errorf("signed tail: %d", got)
	}
}

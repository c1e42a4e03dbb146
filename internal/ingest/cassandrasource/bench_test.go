package cassandrasource

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// adultTable holds Adult's training split (39,074 rows × 15 columns) as a
// table keyed by row number: int columns as int, text as text.
func adultTable(b *testing.B) *fixTable {
	b.Helper()
	f, err := ingest.Read(context.Background(), frametest.Example(b, "adult", "adult.train.csv"), ingest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	t := &fixTable{ks: "gyre_bench", name: "adult", cols: []fixCol{{name: "row", typ: tInt, text: "int", kind: "partition_key", pos: 0}}}
	for _, c := range f.Columns() {
		switch c.Kind() {
		case frame.KindInt:
			t.cols = append(t.cols, fixCol{name: c.Name(), typ: tInt, text: "int", kind: "regular"})
		case frame.KindFloat:
			t.cols = append(t.cols, fixCol{name: c.Name(), typ: tDouble, text: "double", kind: "regular"})
		default:
			t.cols = append(t.cols, fixCol{name: c.Name(), typ: tVarchar, text: "text", kind: "regular"})
		}
	}
	for i := range f.NumRows() {
		row := [][]byte{encInt(int32(i))}
		for _, c := range f.Columns() {
			var v []byte
			if !c.IsNull(i) {
				switch c := c.(type) {
				case *frame.Int:
					v = encInt(int32(c.Values[i]))
				case *frame.Float:
					v = encDouble(c.Values[i])
				default:
					v = []byte(c.Format(i))
				}
			}
			row = append(row, v)
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// BenchmarkReadAdultFixture reads Adult's training split through gocql
// from the fixture server (token ranges in parallel, paged): the client
// side of a Cassandra read (driver, decoding, frame building) plus the
// fixture's serving, which is not a Cassandra server's cost. It reports
// rows/s and the process's CPU per 1,000 rows:
//
//	go test ./internal/ingest/cassandrasource -run '^$' -bench ReadAdultFixture -benchtime 5x
func BenchmarkReadAdultFixture(b *testing.B) {
	tb := adultTable(b)
	fs := newFixServer(b, tb)
	for _, q := range []string{"", "&splits=1&parallel=1"} {
		b.Run(fmt.Sprintf("params=%q", q), func(b *testing.B) {
			url := "cassandra://" + fs.addr() + "/gyre_bench?table=adult" + q
			var rows int
			c0 := cpuSeconds()
			t0 := time.Now()
			for b.Loop() {
				f, err := ingest.Read(context.Background(), url, ingest.Options{})
				if err != nil {
					b.Fatal(err)
				}
				rows += f.NumRows()
			}
			b.ReportMetric(float64(rows)/time.Since(t0).Seconds(), "rows/s")
			b.ReportMetric((cpuSeconds()-c0)/float64(rows)*1000, "cpu-s/1000rows")
		})
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

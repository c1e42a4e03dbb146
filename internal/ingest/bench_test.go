package ingest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

// writeMixedCSV writes rows of the 20-column mixed layout of bench/csv/gen.py
// (6 int, 8 float, 6 categorical, ~3% missing) from a fixed seed.
func writeMixedCSV(tb testing.TB, path string, rows int) { writeCSV(tb, path, rows, false) }

// writeCSV is writeMixedCSV; with quoted, every categorical value is quoted
// and one in eight holds the delimiter, an escaped quote or a newline.
func writeCSV(tb testing.TB, path string, rows int, quoted bool) {
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	w := bufio.NewWriter(fh)
	rng := rand.New(rand.NewPCG(2024, 917))
	for j := 0; j < 20; j++ {
		if j > 0 {
			w.WriteByte(',')
		}
		switch {
		case j < 6:
			fmt.Fprintf(w, "int%d", j)
		case j < 14:
			fmt.Fprintf(w, "float%d", j-6)
		default:
			fmt.Fprintf(w, "cat%d", j-14)
		}
	}
	w.WriteByte('\n')
	for i := 0; i < rows; i++ {
		for j := 0; j < 20; j++ {
			if j > 0 {
				w.WriteByte(',')
			}
			if rng.Float64() < 0.03 {
				continue
			}
			switch {
			case j < 6:
				fmt.Fprintf(w, "%d", rng.IntN(101000)-1000)
			case j < 14:
				fmt.Fprintf(w, "%.4f", rng.NormFloat64()*50+100)
			default:
				k := j - 14
				if !quoted {
					fmt.Fprintf(w, "level_%c_%d", 'a'+k, rng.IntN(5+20*k))
					continue
				}
				extra := []string{"", "", "", "", "", ", x", " \"\"q\"\"", "\nnext"}[rng.IntN(8)]
				fmt.Fprintf(w, "\"level_%c_%d%s\"", 'a'+k, rng.IntN(5+20*k), extra)
			}
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkReadCSV reads a 200,000-row x 20-column mixed CSV (set
// GYRE_BENCH_CSV to read another file instead).
func BenchmarkReadCSV(b *testing.B) {
	p := os.Getenv("GYRE_BENCH_CSV")
	if p == "" {
		p = filepath.Join(b.TempDir(), "mixed.csv")
		writeMixedCSV(b, p, 200_000)
	}
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := Read(context.Background(), p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if f.NumCols() != 20 {
			b.Fatalf("%d columns", f.NumCols())
		}
	}
}

// BenchmarkReadCSVQuoted reads the same layout with quoted categorical
// values (the quote-aware record scan instead of the newline fast path).
func BenchmarkReadCSVQuoted(b *testing.B) {
	p := filepath.Join(b.TempDir(), "quoted.csv")
	writeCSV(b, p, 200_000, true)
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		f, err := Read(context.Background(), p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if f.NumRows() != 200_000 {
			b.Fatalf("%d rows", f.NumRows())
		}
	}
}

// BenchmarkStreamCSV streams the mixed layout (plain and quoted) in chunks
// of DefaultChunkRows rows.
func BenchmarkStreamCSV(b *testing.B) {
	for _, quoted := range []bool{false, true} {
		b.Run(fmt.Sprintf("quoted=%v", quoted), func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "stream.csv")
			writeCSV(b, p, 200_000, quoted)
			st, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			for b.Loop() {
				rows := 0
				err := Stream(context.Background(), p, Options{}, 0, func(c *Chunk) error {
					rows += c.Frame.NumRows()
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if rows != 200_000 {
					b.Fatalf("%d rows", rows)
				}
			}
		})
	}
}

// BenchmarkReadAvro reads an Avro container file of 200,000 mixed rows
// (frametest.Mixed: numbers, categories, booleans, missing values) into a
// frame, and reports the process's CPU time per read (all cores, GC
// included), which a shared machine's load moves less than the wall time:
//
//	go test ./internal/ingest -run '^$' -bench ReadAvro -benchtime 5x -cpu 1
func BenchmarkReadAvro(b *testing.B) {
	ctx := context.Background()
	p := filepath.Join(b.TempDir(), "mixed.avro")
	if err := Write(ctx, frametest.Mixed(200_000, 1, 0, false), p); err != nil {
		b.Fatal(err)
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	for b.Loop() {
		if _, err := Read(ctx, p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

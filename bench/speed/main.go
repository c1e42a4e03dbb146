// Command speed-data writes rows [from, from+rows) of the synthetic binary
// data set of ../../../shared/bench/speed_anchors.py (splitmix64, specified
// bit for bit in its docstring) as CSV: columns x0..x19 and y, floats with
// 17 significant digits like its --write-csv (%.17g), so readers get exactly
// the generator's float64 values and the same bytes to parse. bench/speed/run.sh uses it for the 1M and 10M training sets and
// the test rows that follow them.
//
//	go run ./bench/speed -rows 1000000 -out train.csv
//	go run ./bench/speed -from 1000000 -rows 200000 -out test.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
)

func splitmix64(i uint64) uint64 {
	z := 0x2545F4914F6CDD1D + (i+1)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// appendRow appends row r of the data set as one CSV line.
func appendRow(b []byte, r uint64) []byte {
	var x [20]float64
	for c := range 20 {
		u := float64(splitmix64(r*21+uint64(c))>>11) * (1.0 / (1 << 53))
		x[c] = 2*u - 1
		if c > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, x[c], 'g', 17, 64)
	}
	f := x[0]*x[1] + math.Sin(3*x[2]) + x[3]*x[3] - x[4] + 0.5*(x[5]+x[6]+x[7]+x[8]+x[9])
	u20 := float64(splitmix64(r*21+20)>>11) * (1.0 / (1 << 53))
	if f+(u20-0.5) > 0.35 {
		return append(b, ",1\n"...)
	}
	return append(b, ",0\n"...)
}

func main() {
	from := flag.Int("from", 0, "first row")
	rows := flag.Int("rows", 1_000_000, "rows to write")
	out := flag.String("out", "", "output CSV file (written to a temp file, then renamed)")
	flag.Parse()
	if *out == "" || *rows <= 0 || *from < 0 {
		log.Fatal("speed-data: -out is required, -rows must be positive and -from non-negative")
	}
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		log.Fatalf("speed-data: %v", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	header := ""
	for c := range 20 {
		header += fmt.Sprintf("x%d,", c)
	}
	if _, err := w.WriteString(header + "y\n"); err != nil {
		log.Fatalf("speed-data: write %s: %v", tmp, err)
	}
	// Blocks of rows formatted in parallel, written in order.
	const block = 1 << 14
	workers := runtime.GOMAXPROCS(0)
	nblocks := (*rows + block - 1) / block
	bufs := make([][]byte, workers)
	for start := 0; start < nblocks; start += workers {
		var wg sync.WaitGroup
		for k := range workers {
			bi := start + k
			if bi >= nblocks {
				bufs[k] = bufs[k][:0]
				continue
			}
			wg.Go(func() {
				b := bufs[k][:0]
				lo, hi := bi*block, min((bi+1)*block, *rows)
				for i := lo; i < hi; i++ {
					b = appendRow(b, uint64(*from+i))
				}
				bufs[k] = b
			})
		}
		wg.Wait()
		for _, b := range bufs {
			if _, err := w.Write(b); err != nil {
				log.Fatalf("speed-data: write %s: %v", tmp, err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatalf("speed-data: write %s: %v", tmp, err)
	}
	if err := f.Close(); err != nil {
		log.Fatalf("speed-data: close %s: %v", tmp, err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		log.Fatalf("speed-data: %v", err)
	}
}

// Command predict-bench splits batch scoring into its phases to show where
// the time goes: streaming the source into chunks (read), bundle.Predict on
// every chunk (predict), and formatting plus writing the output to a
// discarding writer (write, per format). Phases run one after another over
// chunks held in memory, each with all cores, and report wall and CPU
// seconds and rows/s as one JSON line.
//
//	go run ./bench/predict -model model.gyre -src score.csv
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	_ "github.com/gyre-ml/gyre/internal/learn/all" // the built-in learners
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

type phase struct {
	Wall          float64 `json:"wall_s"`
	CPU           float64 `json:"cpu_s"`
	RowsPerSecond float64 `json:"rows_per_s"`
}

func timed(rows *int, fn func() error) (phase, error) {
	c0, t0 := cpuSeconds(), time.Now()
	err := fn()
	p := phase{Wall: time.Since(t0).Seconds(), CPU: cpuSeconds() - c0}
	if p.Wall > 0 {
		p.RowsPerSecond = float64(*rows) / p.Wall
	}
	return p, err
}

func main() {
	model := flag.String("model", "", "bundle")
	src := flag.String("src", "", "source to score")
	chunkRows := flag.Int("chunk", ingest.DefaultChunkRows, "rows per chunk")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of all phases to this file")
	flag.Parse()
	if *cpuprofile != "" {
		fh, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "predict-bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(fh); err != nil {
			fmt.Fprintln(os.Stderr, "predict-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*model, *src, *chunkRows); err != nil {
		fmt.Fprintln(os.Stderr, "predict-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(model, src string, chunkRows int) error {
	ctx := context.Background()
	b, err := bundle.Load(model)
	if err != nil {
		return err
	}
	schema := map[string]ingest.FieldOverride{}
	for _, f := range b.Manifest.Input.Fields {
		schema[f.Name] = ingest.FieldOverride{Type: f.Kind}
	}
	opt := ingest.Options{Schema: schema, Columns: b.Manifest.Input.Names()}
	out := map[string]any{"source": src, "threads": runtime.GOMAXPROCS(0), "chunk_rows": chunkRows}

	var chunks []*frame.Frame
	rows := 0
	p, err := timed(&rows, func() error {
		return ingest.Stream(ctx, src, opt, chunkRows, func(c *ingest.Chunk) error {
			chunks = append(chunks, c.Frame)
			rows += c.Frame.NumRows()
			return nil
		})
	})
	if err != nil {
		return err
	}
	out["rows"], out["read"] = rows, p

	preds := make([]*frame.Frame, len(chunks))
	p, err = timed(&rows, func() error {
		for i, c := range chunks {
			pr, err := b.Predict(c)
			if err != nil {
				return err
			}
			cols := []frame.Column{}
			k := len(pr.Classes)
			codes := make([]int32, len(pr.Values))
			for r, v := range pr.Values {
				codes[r] = int32(v)
			}
			cols = append(cols, &frame.Categorical{ColName: "prediction", Codes: codes, Levels: pr.Classes})
			for c, name := range pr.Classes {
				v := make([]float64, len(pr.Values))
				for r := range v {
					v[r] = pr.Proba[r*k+c]
				}
				cols = append(cols, frame.NewFloat("proba_"+name, v))
			}
			if preds[i], err = frame.New(cols...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	out["predict"] = p

	for _, format := range []string{"csv", "parquet"} {
		p, err = timed(&rows, func() error {
			w, err := ingest.NewChunkWriter(io.Discard, format)
			if err != nil {
				return err
			}
			for _, f := range preds {
				if err := w.Write(ctx, f); err != nil {
					return err
				}
			}
			return w.Close()
		})
		if err != nil {
			return err
		}
		out["write_"+format] = p
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

package retention

import (
	"fmt"
	"io"
)

// WriteText writes the collection's summary: the horizon, runs reaped
// first, and the counts deleted (or, on a dry run, that would be); with
// details, each model version and run as well.
func (rep *Report) WriteText(w io.Writer, details bool) error {
	verb := "deleted"
	if rep.DryRun {
		verb = "would delete"
	}
	fmt.Fprintf(w, "horizon %s\n", rep.Horizon.Local().Format("2006-01-02 15:04:05"))
	if len(rep.Reaped) > 0 {
		fmt.Fprintf(w, "marked FAILED first (process gone): %d runs\n", len(rep.Reaped))
	}
	_, err := fmt.Fprintf(w, "%s %d runs, %d model versions, %d prediction-log batches (%d labels), %d blobs (%.1f MiB), %d temporary files\n",
		verb, len(rep.Runs), len(rep.Versions), len(rep.Batches), rep.Labels, len(rep.Blobs), float64(rep.BlobBytes)/(1<<20), len(rep.TempFiles))
	if !details {
		return err
	}
	for _, v := range rep.Versions {
		fmt.Fprintf(w, "  model %s version %d\n", v.Model, v.Version)
	}
	for _, r := range rep.Runs {
		_, err = fmt.Fprintf(w, "  run %s %s (%s)\n", r.ID, r.Name, r.Status)
	}
	return err
}

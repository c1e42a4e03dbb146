package pipeline

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes the run's outcome as one line: the version promoted,
// every step cached, or the gate's reasons for rejecting the candidate.
func (res *Result) WriteText(w io.Writer) error {
	var err error
	switch res.Status {
	case "promoted":
		_, err = fmt.Fprintf(w, "promoted %s version %d in %.2fs\n", res.Pipeline, res.Version, res.Seconds)
	case "unchanged":
		_, err = fmt.Fprintf(w, "unchanged: every step cached (%.2fs); %s version %d stays promoted\n", res.Seconds, res.Pipeline, res.Version)
	case "rejected":
		_, err = fmt.Fprintf(w, "rejected by the gate: %s\n", strings.Join(res.Gate.Reasons, "; "))
	}
	return err
}

// WriteTriggered writes a scheduled run's outcome as one line: when, the
// trigger, the status and the version.
func (res *Result) WriteTriggered(w io.Writer, trigger string, now time.Time) error {
	fmt.Fprintf(w, "%s  %s: %s", now.Format(time.RFC3339), trigger, res.Status)
	if res.Version > 0 {
		fmt.Fprintf(w, " (version %d)", res.Version)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// WriteText writes the step's progress line: step, status, seconds and
// summary.
func (s StepResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "  %-8s %-7s %6.2fs  %s\n", s.Step, s.Status, s.Seconds, s.Summary)
	return err
}

// WriteRuns writes a pipeline's runs, one line each: start, status,
// duration (or "running"), trigger and detail.
func WriteRuns(w io.Writer, runs []RunInfo) error {
	var err error
	for _, r := range runs {
		end := "running"
		if !r.End.IsZero() {
			end = r.End.Sub(r.Start).Round(time.Millisecond).String()
		}
		_, err = fmt.Fprintf(w, "%s  %-10s %-9s %-20s %s\n", r.Start.Format(time.RFC3339), r.Status, end, r.Trigger, r.Detail)
	}
	return err
}

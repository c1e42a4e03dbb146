package trainrun

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/gyre-ml/gyre/internal/train"
)

// table returns the writer of a table on w, columns aligned two spaces
// apart; the caller flushes it.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// WriteText writes the trained model for people to w, and its warnings
// to warn: what was trained, the metrics, the comparison with the
// baselines, the model, run and registered version.
func (res *Result) WriteText(w, warn io.Writer) {
	if res.Target == "" {
		fmt.Fprintf(w, "trained %s on %d rows (%s) in %.2fs\n", res.Learner, res.Rows, res.Task, res.FitSeconds)
	} else {
		fmt.Fprintf(w, "trained %s on %d rows (%s, target %q) in %.2fs\n", res.Learner, res.Rows, res.Task, res.Target, res.FitSeconds)
	}
	if res.Dropped > 0 {
		fmt.Fprintf(w, "dropped %d rows with a missing target\n", res.Dropped)
	}
	WriteMetrics(w, res.Metrics)
	writeComparison(w, warn, res.Comparison)
	fmt.Fprintf(w, "model: %s\n", res.Model)
	if res.RunID != "" {
		fmt.Fprintf(w, "run: %s\n", res.RunID)
	}
	if res.Registered != "" {
		fmt.Fprintf(w, "registered: %s\n", res.Registered)
	}
}

// WriteMetrics writes a metric × split (train, valid, test) table.
func WriteMetrics(w io.Writer, ms map[string]map[string]float64) {
	splits := []string{}
	for _, s := range []string{"train", "valid", "test"} {
		if ms[s] != nil {
			splits = append(splits, s)
		}
	}
	names := map[string]bool{}
	for _, s := range splits {
		for k := range ms[s] {
			names[k] = true
		}
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := table(w)
	fmt.Fprint(tw, "metric")
	for _, s := range splits {
		fmt.Fprintf(tw, "\t%s", s)
	}
	fmt.Fprintln(tw)
	for _, k := range keys {
		fmt.Fprint(tw, k)
		for _, s := range splits {
			if v, ok := ms[s][k]; ok {
				fmt.Fprintf(tw, "\t%.4f", v)
			} else {
				fmt.Fprint(tw, "\t-")
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// writeComparison writes the model next to the baselines, and the
// warnings.
func writeComparison(out, warn io.Writer, c *train.Comparison) {
	if c == nil {
		return
	}
	eval := c.Eval
	switch {
	case c.Eval == "cv" && c.Repeats > 1:
		eval = fmt.Sprintf("%d×%d-fold cv", c.Repeats, c.Folds)
	case c.Eval == "cv":
		eval = fmt.Sprintf("%d-fold cv", c.Folds)
	}
	if c.SampleRows > 0 {
		eval += fmt.Sprintf(" of a %d-row sample", c.SampleRows)
	}
	fmt.Fprintf(out, "\nagainst baselines (%s, %s; ± is the spread over the groups scored):\n", c.Metric, eval)
	tw := table(out)
	fmt.Fprintf(tw, "model\t%s\tgain\tmeaningful\n", c.Metric)
	fmt.Fprintf(tw, "%s\t%.4f ± %.4f\t\t\n", c.Model.Name, c.Model.Score, c.Model.Spread)
	for _, b := range c.Baselines {
		if b.Err != "" {
			fmt.Fprintf(tw, "%s\t-\t\t(%s)\n", b.Name, b.Err)
			continue
		}
		yes := "yes"
		if !b.Meaningful {
			yes = "NO"
		}
		fmt.Fprintf(tw, "%s\t%.4f ± %.4f\t%+.4f ± %.4f\t%s\n", b.Name, b.Score, b.Spread, b.Gain, b.GainSpread, yes)
	}
	tw.Flush()
	for _, s := range c.Warnings {
		fmt.Fprintf(warn, "warning: %s\n", s)
	}
	fmt.Fprintln(out)
}

// WriteText writes the finished search for people to w, and its warnings
// to warn: the leaderboard's top ten, the final model and its
// calibration, the metrics, the comparison with the baselines, the model,
// run and registered version.
func (s *Searched) WriteText(w, warn io.Writer) {
	r, res, m, rows, logged := &s.AutoMLResult, s.Search, s.Metric, s.Rows, s.Logged
	eval := res.Eval
	switch {
	case res.Eval == "cv" && res.Repeats > 1:
		eval = fmt.Sprintf("%d×%d-fold cv", res.Repeats, res.Folds)
	case res.Eval == "cv":
		eval = fmt.Sprintf("%d-fold cv", res.Folds)
	}
	fmt.Fprintf(w, "automl: %d trials in %.1fs on %d rows (%s, %s by %s)\n\n", r.Trials, res.Elapsed.Seconds(), r.Rows, r.Task, m.Name, eval)
	tw := table(w)
	fmt.Fprintf(tw, "rank\tlearner\t%s\tfit s\tpredict µs/row\tconfig\n", m.Name)
	for i, t := range r.Leaderboard {
		if i == 10 {
			break
		}
		fmt.Fprintf(tw, "%d\t%s\t%.4f\t%.2f\t%.2f\t%s\n", i+1, t.Learner, m.Loss(t.Loss), t.FitTime.Seconds(), float64(t.PredictPerRow.Nanoseconds())/1000, configString(t.Config))
	}
	tw.Flush()
	fmt.Fprintln(w)
	if r.Ensembled {
		fmt.Fprintf(w, "final: ensemble of %d models (validation %s %.4f vs best single %.4f)\n", len(r.Members), m.Name, m.Loss(res.ValidLoss), m.Loss(res.Best.Loss))
	} else {
		fmt.Fprintf(w, "final: %s (validation %s %.4f)\n", res.Best.Learner, m.Name, m.Loss(res.ValidLoss))
	}
	if n := len(r.Members); n == 1 && (r.Members[0].Temperature != 0 || r.Members[0].Smoothing != 0) {
		fmt.Fprintf(w, "calibrated: temperature %.3f, smoothing %g, fitted on the validation predictions\n", temperatureOr1(r.Members[0].Temperature), r.Members[0].Smoothing)
	} else if n > 1 {
		k := 0
		for _, mem := range r.Members {
			if mem.Temperature != 0 || mem.Smoothing != 0 {
				k++
			}
		}
		if k > 0 {
			fmt.Fprintf(w, "calibrated: %d of %d members by their own temperature or smoothing\n", k, n)
		}
	}
	if c := r.Temperature; c != nil {
		fmt.Fprintf(w, "calibrated: temperature %.3f (validation log loss %.4f → %.4f, cross-fitted)\n", c.Temperature, c.LogLossBefore, c.LogLossAfter)
	}
	if !r.Refitted {
		fmt.Fprintf(w, "not refitted: the budget ran out before the final model was refitted on all %d rows; it is the best trial's own model, fitted during the search on part of its %d-row sample (raise --budget to refit)\n", rows, res.Best.Sample)
	}
	WriteMetrics(w, r.Metrics)
	writeComparison(w, warn, r.Comparison)
	fmt.Fprintf(w, "model: %s  (%.1fs total)\n", r.Model, r.Seconds)
	if r.RunID != "" {
		fmt.Fprintf(w, "run: %s (%d trials logged as child runs)\n", r.RunID, logged)
	}
	if r.Registered != "" {
		fmt.Fprintf(w, "registered: %s\n", r.Registered)
	}
}

func configString(c map[string]string) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		if k == "seed" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + c[k]
	}
	return strings.Join(parts, " ")
}

// temperatureOr1 reads a bundle or AutoML temperature, where 0 means none.
func temperatureOr1(t float64) float64 {
	if t == 0 {
		return 1
	}
	return t
}

package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SearchTrial is one AutoML trial as the report shows it.
type SearchTrial struct {
	ID      int
	Learner string
	Config  map[string]string
	// Score is the validation score in the metric's own orientation.
	Score      float64
	FitSeconds float64
	// PredictMicros is the prediction time per row in microseconds.
	PredictMicros float64
	// Elapsed is seconds since the search started when the trial ended.
	Elapsed float64
	Err     string
}

// Search summarises an AutoML run for its report.
type Search struct {
	Source, Target, Task, Metric string
	HigherIsBetter               bool
	Rows                         int
	Eval                         string
	Budget                       string
	Seconds                      float64
	Trials                       []SearchTrial
	// Final describes the chosen model; Members its ensemble members.
	Final      string
	ValidScore float64
	Members    []string
	// Calibration describes the probability calibration fitted to the
	// chosen classifier ("" when none).
	Calibration string
	Evaluation  *Evaluation // optional: the chosen model on test data
	TestMetrics map[string]float64
}

// SearchPage builds the AutoML report: leaderboard, search trajectory per
// learner, and the chosen model's evaluation when test data was given.
func SearchPage(s *Search) *Page {
	pg := &Page{Title: "AutoML: " + s.Target, Generated: time.Now(),
		Subtitle: fmt.Sprintf("%s · %s rows · %s by %s · %d trials in %.1fs", s.Source, commas(s.Rows), s.Metric, s.Eval, len(s.Trials), s.Seconds)}
	ov := pg.AddSection("Result")
	cards := Cards{
		{Label: "Chosen model", Value: s.Final, Note: strings.Join(s.Members, " + ")},
		{Label: "Validation " + s.Metric, Value: strconv.FormatFloat(s.ValidScore, 'f', 4, 64), Note: s.Eval},
		{Label: "Trials", Value: strconv.Itoa(len(s.Trials)), Note: fmt.Sprintf("%.1fs", s.Seconds)},
	}
	if s.Calibration != "" {
		cards = append(cards, Card{Label: "Calibration", Value: s.Calibration, Note: "temperature scaling of the probabilities, fitted on validation predictions"})
	}
	if v, ok := s.TestMetrics[s.Metric]; ok {
		cards = append(cards, Card{Label: "Test " + s.Metric, Value: strconv.FormatFloat(v, 'f', 4, 64), Tone: Good})
	}
	ov.Add(cards)

	lb := pg.AddSection("Leaderboard")
	ok := make([]SearchTrial, 0, len(s.Trials))
	for _, t := range s.Trials {
		if t.Err == "" && !math.IsInf(t.Score, 0) && !math.IsNaN(t.Score) {
			ok = append(ok, t)
		}
	}
	sort.SliceStable(ok, func(i, j int) bool {
		if s.HigherIsBetter {
			return ok[i].Score > ok[j].Score
		}
		return ok[i].Score < ok[j].Score
	})
	tbl := Table{Columns: []string{"rank", "trial", "learner", s.Metric, "fit s", "µs/row", "configuration"}, Numeric: map[int]bool{0: true, 1: true, 3: true, 4: true, 5: true}, Compact: true}
	for i, t := range ok {
		if i == 30 {
			break
		}
		tbl.Rows = append(tbl.Rows, []Cell{{Text: strconv.Itoa(i + 1)}, {Text: strconv.Itoa(t.ID)}, {Text: t.Learner},
			{Text: strconv.FormatFloat(t.Score, 'f', 4, 64)}, {Text: strconv.FormatFloat(t.FitSeconds, 'f', 2, 64)},
			{Text: strconv.FormatFloat(t.PredictMicros, 'f', 1, 64)}, {Text: configText(t.Config)}})
	}
	lb.Add(tbl)

	tr := pg.AddSection("Search trajectory")
	byLearner := map[string][][2]float64{}
	best := map[string]float64{}
	var order []string
	trials := append([]SearchTrial(nil), s.Trials...)
	sort.SliceStable(trials, func(i, j int) bool { return trials[i].ID < trials[j].ID })
	for _, t := range trials {
		if t.Err != "" || math.IsInf(t.Score, 0) || math.IsNaN(t.Score) {
			continue
		}
		b, seen := best[t.Learner]
		if !seen {
			order = append(order, t.Learner)
		}
		if !seen || (s.HigherIsBetter && t.Score > b) || (!s.HigherIsBetter && t.Score < b) {
			best[t.Learner] = t.Score
			byLearner[t.Learner] = append(byLearner[t.Learner], [2]float64{t.Elapsed, t.Score})
		}
	}
	var curves, all []Curve
	for _, l := range order {
		pts := byLearner[l]
		pts = append(pts, [2]float64{s.Seconds, pts[len(pts)-1][1]})
		curves = append(curves, Curve{Name: l, Points: pts})
	}
	for _, l := range order {
		var pts [][2]float64
		for _, t := range trials {
			if t.Learner == l && t.Err == "" && !math.IsInf(t.Score, 0) && !math.IsNaN(t.Score) {
				pts = append(pts, [2]float64{t.Elapsed, t.Score})
			}
		}
		all = append(all, Curve{Name: l, Points: pts})
	}
	everyTrial := Scatter(nil, "seconds", s.Metric)
	if o, okk := everyTrial.(obj); okk {
		var ss []obj
		for _, c := range all {
			data := make([][2]any, len(c.Points))
			for i, p := range c.Points {
				data[i] = [2]any{num(p[0]), num(p[1])}
			}
			ss = append(ss, obj{"name": c.Name, "type": "scatter", "data": data, "symbolSize": 6})
		}
		o["series"] = ss
		o["legend"] = obj{"top": 0, "type": "scroll"}
		o["grid"] = obj{"left": 64, "right": 24, "top": 36, "bottom": 48}
	}
	tr.Add(Note{Text: "Best validation score so far per learner over the search's time, and every trial's score."},
		Grid{Blocks: []Block{
			Chart{Title: "Best so far", Option: Curves(curves, "seconds", s.Metric, 0, 0, true), Height: 320},
			Chart{Title: "Every trial", Option: everyTrial, Height: 320},
		}})
	if s.Evaluation != nil {
		AddEvaluation(pg, s.Evaluation)
	}
	return pg
}

func configText(c map[string]string) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		if k != "seed" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + c[k]
	}
	return strings.Join(parts, " ")
}

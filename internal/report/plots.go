package report

import (
	"math"

	"github.com/gyre-ml/gyre/internal/metric"
)

// PlotsArtifact is the name of the run artifact that holds a model's
// Plots as JSON: training logs it with the run that made the model.
const PlotsArtifact = "evaluation.json"

// PlotsVersion is the version of the Plots JSON form.
const PlotsVersion = 1

// Plots is an evaluation reduced to what its charts draw, small enough to
// keep beside a model (a training run's evaluation.json artifact, which
// the web UI's version page draws): ROC and precision-recall curves and
// the confusion matrix for classifiers, residuals for regression. Curves
// are thinned to 300 points and scatters sampled to 1,000 rows (seeded),
// so the form stays under about 100 kB whatever the data's size.
type Plots struct {
	Version int `json:"version"`
	// Data names the rows scored (a test or validation file); Rows counts
	// them.
	Data string `json:"data"`
	Rows int    `json:"rows"`
	// Task is binary, multiclass or regression.
	Task    string             `json:"task"`
	Classes []string           `json:"classes,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	ROC     []PlotCurve        `json:"roc,omitempty"`
	PR      []PlotCurve        `json:"pr,omitempty"`
	// Confusion counts rows by true class (rows) and predicted class
	// (columns), in Classes' order.
	Confusion [][]float64 `json:"confusion,omitempty"`
	// Actual and Predicted are a sample of rows (regression).
	Actual    []float64 `json:"actual,omitempty"`
	Predicted []float64 `json:"predicted,omitempty"`
	// ResidualEdges and ResidualCounts are the histogram of every row's
	// residual (actual − predicted).
	ResidualEdges  []float64 `json:"residual_edges,omitempty"`
	ResidualCounts []int     `json:"residual_counts,omitempty"`
}

// PlotCurve is one named curve of [x, y] points.
type PlotCurve struct {
	Name   string       `json:"name"`
	Points [][2]float64 `json:"points"`
}

// maxPlotRows bounds the sampled scatter of a regression's plots.
const maxPlotRows = 1000

// PlotsOf reduces an evaluation to its plots.
func PlotsOf(e *Evaluation) *Plots {
	p := &Plots{Version: PlotsVersion, Data: e.Data, Rows: len(e.Y), Task: e.Task, Classes: e.Classes, Metrics: finite(e.Metrics)}
	if e.Task == "regression" {
		for _, i := range sampleRows(len(e.Y), maxPlotRows) {
			p.Actual = append(p.Actual, e.Y[i])
			p.Predicted = append(p.Predicted, e.Pred[i])
		}
		res := make([]float64, len(e.Y))
		for i := range res {
			res[i] = e.Y[i] - e.Pred[i]
		}
		if len(res) > 0 {
			p.ResidualEdges, p.ResidualCounts = histogram(res, 30)
		}
		return p
	}
	k := len(e.Classes)
	if len(e.Proba) == len(e.Y)*k && k >= 2 {
		roc, pr := classCurves(e)
		for _, c := range roc {
			p.ROC = append(p.ROC, PlotCurve{Name: c.Name, Points: c.Points})
		}
		for _, c := range pr {
			p.PR = append(p.PR, PlotCurve{Name: c.Name, Points: c.Points})
		}
	}
	if k > 0 && k <= 30 {
		if m, err := metric.ConfusionMatrix(e.Y, e.Pred, k, nil); err == nil {
			p.Confusion = m
		}
	}
	return p
}

// finite drops NaN and infinite values (JSON has no form for them).
func finite(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

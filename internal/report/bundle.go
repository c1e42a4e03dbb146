package report

import "github.com/gyre-ml/gyre/internal/bundle"

// EvaluationOf is the evaluation of bundle b (named model) on data: its
// metrics there, the true values y and its predictions, with the
// training metrics and feature importance the bundle carries.
func EvaluationOf(b *bundle.Bundle, model, data string, metrics map[string]float64, y []float64, pred *bundle.Prediction) *Evaluation {
	imp, src := b.Importance()
	return &Evaluation{Model: model, Data: data, Task: b.Manifest.Task.String(), Classes: b.Manifest.Classes,
		Y: y, Pred: pred.Values, Proba: pred.Proba, Metrics: metrics, TrainMetrics: b.Manifest.Metrics["train"],
		Importance: imp, ImportanceSource: src}
}

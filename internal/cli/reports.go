package cli

import (
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/report"
)

func writeEvaluationReport(path string, b *bundle.Bundle, ev evaluation, y []float64, pred *bundle.Prediction) error {
	return report.EvaluationPage(report.EvaluationOf(b, ev.Model, ev.Data, ev.Metrics, y, pred)).WriteFile(path)
}

package cli

import (
	"fmt"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/train"
)

func evaluationOf(b *bundle.Bundle, model, data string, metrics map[string]float64, y []float64, pred *bundle.Prediction) *report.Evaluation {
	imp, src := b.Importance()
	return &report.Evaluation{Model: model, Data: data, Task: b.Manifest.Task.String(), Classes: b.Manifest.Classes,
		Y: y, Pred: pred.Values, Proba: pred.Proba, Metrics: metrics, TrainMetrics: b.Manifest.Metrics["train"],
		Importance: imp, ImportanceSource: src}
}

func writeEvaluationReport(path string, b *bundle.Bundle, ev evaluation, y []float64, pred *bundle.Prediction) error {
	page := report.EvaluationPage(evaluationOf(b, ev.Model, ev.Data, ev.Metrics, y, pred))
	if err := writeFileAtomic(path, page.Render); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// searchReport carries what the AutoML report needs beyond the result.
type searchReport struct {
	source, budget string
	rows           int
	test           *frame.Frame
	testName       string
	seconds        float64
}

func writeSearchReport(path string, b *bundle.Bundle, res *automl.Result, metricName string, higher bool, sr searchReport) error {
	orient := func(loss float64) float64 {
		if higher {
			return -loss
		}
		return loss
	}
	s := &report.Search{Source: ingest.Redact(sr.source), Target: b.Manifest.Target, Task: b.Manifest.Task.String(), Metric: metricName, HigherIsBetter: higher,
		Rows: sr.rows, Eval: res.Eval, Budget: sr.budget, Seconds: res.Elapsed.Seconds(), ValidScore: orient(res.ValidLoss), Final: res.Best.Learner}
	for _, t := range res.Trials {
		s.Trials = append(s.Trials, report.SearchTrial{ID: t.ID, Learner: t.Learner, Config: t.Config, Score: orient(t.Loss),
			FitSeconds: t.FitTime.Seconds(), PredictMicros: float64(t.PredictPerRow.Nanoseconds()) / 1000, Elapsed: t.Elapsed.Seconds(), Err: t.Err})
	}
	if res.Ensembled {
		s.Final = fmt.Sprintf("ensemble of %d", len(res.Members))
	}
	for _, m := range res.Members {
		member := fmt.Sprintf("%s ×%.2f", m.Learner, m.Weight)
		if m.Temperature != 0 {
			member += fmt.Sprintf(" (T = %.2f)", m.Temperature)
		}
		s.Members = append(s.Members, member)
	}
	if res.Temperature != 0 {
		s.Calibration = fmt.Sprintf("T = %.3f (log loss %.4f → %.4f)", res.Temperature, res.UncalibratedLogLoss, res.CalibratedLogLoss)
	}
	if sr.test != nil {
		scores, pred, y, err := train.Score(b, sr.test)
		if err == nil {
			s.TestMetrics = scores
			s.Evaluation = evaluationOf(b, "automl", sr.testName, scores, y, pred)
		}
	}
	if err := writeFileAtomic(path, report.SearchPage(s).Render); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestEvaluationAndSearchPagesRender(t *testing.T) {
	y := []float64{0, 1, 1, 0, 1, 0, 0, 1}
	proba := []float64{0.9, 0.1, 0.2, 0.8, 0.4, 0.6, 0.7, 0.3, 0.1, 0.9, 0.6, 0.4, 0.8, 0.2, 0.3, 0.7}
	pred := []float64{0, 1, 1, 0, 1, 0, 0, 1}
	e := &Evaluation{Model: "m.gyre", Data: "test.csv", Task: "binary", Classes: []string{"no", "yes"}, Y: y, Pred: pred, Proba: proba,
		Metrics: map[string]float64{"roc_auc": 0.9, "accuracy": 0.75}, Importance: map[string]float64{"age": 3, "<script>": 1}}
	var b bytes.Buffer
	if err := EvaluationPage(e).Render(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{"ROC curve", "Confusion matrix", "Calibration", "Feature importance", "roc_auc"} {
		if !strings.Contains(html, want) {
			t.Errorf("evaluation page lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>\"") || strings.Contains(html, `"<script>"`) {
		t.Error("a feature name was not escaped")
	}
	reg := &Evaluation{Model: "r", Data: "d", Task: "regression", Y: []float64{1, 2, 3}, Pred: []float64{1.1, 1.9, 3.2}, Metrics: map[string]float64{"rmse": 0.1}}
	b.Reset()
	if err := EvaluationPage(reg).Render(&b); err != nil || !strings.Contains(b.String(), "Residual") {
		t.Errorf("regression page: %v", err)
	}
	s := &Search{Source: "x.csv", Target: "y", Task: "binary", Metric: "roc_auc", HigherIsBetter: true, Rows: 8, Eval: "cv", Seconds: 2,
		Final: "gbdt", ValidScore: 0.9, Trials: []SearchTrial{{ID: 0, Learner: "gbdt", Score: 0.8, Elapsed: 0.5}, {ID: 1, Learner: "gbdt", Score: 0.9, Elapsed: 1}, {ID: 2, Learner: "knn", Err: "failed"}},
		Evaluation: e}
	b.Reset()
	if err := SearchPage(s).Render(&b); err != nil || !strings.Contains(b.String(), "Leaderboard") || !strings.Contains(b.String(), "Search trajectory") {
		t.Errorf("search page: %v", err)
	}
}

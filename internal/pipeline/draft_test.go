package pipeline

import (
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
)

func TestDraftParsesWithTaskGoals(t *testing.T) {
	for _, c := range []struct {
		task         learn.Task
		goal, metric string
	}{
		{learn.Regression, "r2 >= 0.5", "rmse"},
		{learn.Binary, "roc_auc >= 0.8", "roc_auc"},
		{learn.Multiclass, "accuracy >= 0.7", "log_loss"},
	} {
		data, err := Draft{Name: "bike", Task: c.task, Target: "cnt: total", Source: "data/bike.csv", Rows: 10, Cols: 3}.Write("gyre.yaml")
		if err != nil {
			t.Fatalf("%v: %v", c.task, err)
		}
		p, err := Parse(data, "gyre.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "bike" || p.Problem.Target != "cnt: total" || p.Train.Metric != c.metric {
			t.Errorf("%v: project %+v, want name bike, target %q and metric %s", c.task, p, "cnt: total", c.metric)
		}
		if !strings.Contains(string(data), "- "+c.goal+"\n") {
			t.Errorf("%v: no goal %q in\n%s", c.task, c.goal, data)
		}
	}
}

package metric

import (
	"errors"
	"strings"
	"testing"
)

func TestParseGoal(t *testing.T) {
	good := []struct {
		text string
		want Goal
	}{
		{"roc_auc >= 0.90", Goal{Metric: "roc_auc", Op: ">=", Value: 0.9}},
		{"  rmse<=80 ", Goal{Metric: "rmse", Op: "<=", Value: 80}},
		{"accuracy > 8e-1", Goal{Metric: "accuracy", Op: ">", Value: 0.8}},
		{"log_loss < .5", Goal{Metric: "log_loss", Op: "<", Value: 0.5}},
		{"r2 == 1", Goal{Metric: "r2", Op: "==", Value: 1}},
		{"p99_latency <= 20ms", Goal{Metric: GoalLatency, Op: "<=", Value: 20}},
		{"p99_latency <= 1s", Goal{Metric: GoalLatency, Op: "<=", Value: 1000}},
		{"p99_latency <= 500us", Goal{Metric: GoalLatency, Op: "<=", Value: 0.5}},
		{"model_size <= 5MB", Goal{Metric: GoalSize, Op: "<=", Value: 5e6}},
		{"model_size <= 2KiB", Goal{Metric: GoalSize, Op: "<=", Value: 2048}},
		{"model_size < 7e", Goal{}}, // "e" is a unit here, and not a size unit
	}
	for _, c := range good {
		g, err := ParseGoal(c.text)
		if c.want.Metric == "" {
			if err == nil {
				t.Errorf("%q: got %+v, want an error", c.text, g)
			}
			continue
		}
		c.want.Text = strings.TrimSpace(c.text)
		if err != nil || g != c.want {
			t.Errorf("%q: got %+v %v, want %+v", c.text, g, err, c.want)
		}
	}
	bad := []struct{ text, want string }{
		{"roc_auc >> 3", `goal "roc_auc >> 3": unknown operator ">>"`},
		{"roc_auc ~= 3", `unknown operator "~="`},
		{"roc_auc != 3", `unknown operator "!="`},
		{"roc_auc => 3", `unknown operator "=>"`},
		{"roc_auc = 3", `unknown operator "="`},
		{"roc_auc 0.9", "want METRIC OP VALUE"},
		{">= 0.9", "want METRIC OP VALUE"},
		{"roc_auc >=", "want METRIC OP VALUE"},
		{"roc_auc >= high", `value "high" is not a number`},
		{"rmse <= 80ms", "metric rmse takes no unit"},
		{"p99_latency <= 3h", `latency unit "h"`},
		{"model_size <= 3TB", `size unit "TB"`},
	}
	for _, c := range bad {
		g, err := ParseGoal(c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrGoal) {
			t.Errorf("%q: got %+v %v, want an error containing %q", c.text, g, err, c.want)
		}
	}
}

func TestGoalMet(t *testing.T) {
	cases := []struct {
		goal string
		v    float64
		want bool
	}{
		{"roc_auc >= 0.9", 0.9, true},
		{"roc_auc >= 0.9", 0.89, false},
		{"roc_auc > 0.9", 0.9, false},
		{"rmse <= 80", 80, true},
		{"rmse < 80", 80, false},
		{"r2 == 1", 1, true},
	}
	for _, c := range cases {
		g, err := ParseGoal(c.goal)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := g.Met(c.v); err != nil || got != c.want {
			t.Errorf("%s at %v: got %v %v, want %v", c.goal, c.v, got, err, c.want)
		}
	}
	// a goal built by hand with an unknown operator is an error naming it
	hand := Goal{Metric: "rmse", Op: "=<", Value: 3}
	if _, err := hand.Met(2); err == nil || !strings.Contains(err.Error(), `goal "rmse =< 3": unknown operator "=<"`) {
		t.Errorf("unknown operator: %v", err)
	}
	if err := hand.Check(); !errors.Is(err, ErrGoal) {
		t.Errorf("check: %v", err)
	}
}

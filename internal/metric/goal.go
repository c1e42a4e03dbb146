package metric

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Goal metrics that are not scoring metrics: a model's 99th-percentile
// prediction latency (in milliseconds) and its bundle size (in bytes).
const (
	GoalLatency = "p99_latency"
	GoalSize    = "model_size"
)

// ErrGoal is wrapped by every error about a goal's text or operator.
var ErrGoal = errors.New("invalid goal")

// Goal is a requirement on a measured value, written "METRIC OP VALUE" as in
// "roc_auc >= 0.90", "rmse <= 80", "p99_latency <= 20ms" or
// "model_size <= 5MB". Latency goals hold milliseconds and size goals bytes
// whatever unit they were written in. ParseGoal is the one way to read
// one; a Goal built by hand is checked by Met.
type Goal struct {
	Metric string  `json:"metric"`
	Op     string  `json:"op"`
	Value  float64 `json:"value"`
	// Text is the goal as written ("" for a goal built by hand).
	Text string `json:"text,omitempty"`
}

// goalOps are the operators a goal may use.
var goalOps = []string{">=", ">", "<=", "<", "=="}

// ParseGoal parses "METRIC OP VALUE[UNIT]": scoring metrics take no unit
// (rmse <= 80, roc_auc >= 0.9); p99_latency takes ms (the default), s or us;
// model_size takes B (the default), KB, MB, GB, KiB, MiB or GiB. Errors name
// the goal text and wrap ErrGoal; an operator other than >=, >, <=, < or ==
// is one of them.
func ParseGoal(s string) (Goal, error) {
	text := strings.TrimSpace(s)
	bad := func(format string, args ...any) (Goal, error) {
		return Goal{}, fmt.Errorf("goal %q: %s: %w", text, fmt.Sprintf(format, args...), ErrGoal)
	}
	i := 0
	for i < len(text) && (text[i] == '_' || isAlnum(text[i])) {
		i++
	}
	name := text[:i]
	rest := strings.TrimLeft(text[i:], " \t")
	j := 0
	for j < len(rest) && strings.IndexByte("<>=!~", rest[j]) >= 0 {
		j++
	}
	op := rest[:j]
	rest = strings.TrimSpace(rest[j:])
	if name == "" || op == "" || rest == "" {
		return bad(`want METRIC OP VALUE, e.g. "roc_auc >= 0.9" or "p99_latency <= 20ms"`)
	}
	if !validOp(op) {
		return bad("unknown operator %q: want >=, >, <=, < or ==", op)
	}
	k := 0
	for k < len(rest) && strings.IndexByte("+-.0123456789eE", rest[k]) >= 0 {
		k++
	}
	// a trailing e or E starts a unit, not an exponent ("5e" is not a number)
	for k > 0 && (rest[k-1] == 'e' || rest[k-1] == 'E') {
		k--
	}
	v, err := strconv.ParseFloat(rest[:k], 64)
	if err != nil {
		return bad("value %q is not a number", rest)
	}
	g := Goal{Metric: name, Op: op, Value: v, Text: text}
	unit := strings.TrimSpace(rest[k:])
	switch u := strings.ToLower(unit); name {
	case GoalLatency:
		switch u {
		case "", "ms":
		case "s":
			g.Value *= 1000
		case "us", "µs":
			g.Value /= 1000
		default:
			return bad("latency unit %q: want ms, s or us", unit)
		}
	case GoalSize:
		mult := map[string]float64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}
		f, ok := mult[u]
		if !ok {
			return bad("size unit %q: want B, KB, MB or GB", unit)
		}
		g.Value *= f
	default:
		if unit != "" {
			return bad("metric %s takes no unit", name)
		}
	}
	return g, nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func validOp(op string) bool {
	for _, o := range goalOps {
		if op == o {
			return true
		}
	}
	return false
}

// String renders the goal as written (or, built by hand, as
// "METRIC OP VALUE").
func (g Goal) String() string {
	if g.Text != "" {
		return g.Text
	}
	return g.Metric + " " + g.Op + " " + strconv.FormatFloat(g.Value, 'g', -1, 64)
}

// Check reports an error naming the goal when its operator is not one of
// >=, >, <=, < or ==.
func (g Goal) Check() error {
	if !validOp(g.Op) {
		return fmt.Errorf("goal %q: unknown operator %q: want >=, >, <=, < or ==: %w", g.String(), g.Op, ErrGoal)
	}
	return nil
}

// Met reports whether v satisfies the goal; an unknown operator is an
// error (see Check), never a silent pass or failure.
func (g Goal) Met(v float64) (bool, error) {
	switch g.Op {
	case ">=":
		return v >= g.Value, nil
	case ">":
		return v > g.Value, nil
	case "<=":
		return v <= g.Value, nil
	case "<":
		return v < g.Value, nil
	case "==":
		return v == g.Value, nil
	}
	return false, g.Check()
}

package trainrun

import (
	"fmt"
	"io"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/train"
)

// Evaluation is a model scored on labelled data it has not seen (`gyre
// evaluate`; its --json document).
type Evaluation struct {
	Model   string             `json:"model"`
	Data    string             `json:"data"`
	Task    string             `json:"task"`
	Rows    int                `json:"rows"`
	Metrics map[string]float64 `json:"metrics"`
	// Confusion is the confusion matrix (rows: true class, columns:
	// predicted) for classifiers.
	Confusion [][]int            `json:"confusion,omitempty"`
	Classes   []string           `json:"classes,omitempty"`
	Unseen    map[string]int     `json:"unseen_categories,omitempty"`
	Training  map[string]float64 `json:"training_metrics,omitempty"`

	bundle *bundle.Bundle
	y      []float64
	pred   *bundle.Prediction
}

// Evaluate scores b, the model reference ref, on f, read from data, which
// holds the target column.
func Evaluate(b *bundle.Bundle, ref, data string, f *frame.Frame) (*Evaluation, error) {
	scores, pred, y, err := train.Score(b, f)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", data, err)
	}
	ev := &Evaluation{Model: ref, Data: data, Task: b.Manifest.Task.String(), Rows: len(y), Metrics: scores,
		Classes: b.Manifest.Classes, Unseen: pred.Unseen, Training: b.Manifest.Metrics["train"], bundle: b, y: y, pred: pred}
	if b.Manifest.Task.Classification() {
		ev.Confusion = confusion(y, pred.Values, len(b.Manifest.Classes))
	}
	return ev, nil
}

func confusion(y, pred []float64, k int) [][]int {
	m := make([][]int, k)
	for i := range m {
		m[i] = make([]int, k)
	}
	for i := range y {
		m[int(y[i])][int(pred[i])]++
	}
	return m
}

// WriteHTML writes the evaluation's HTML report (curves, calibration,
// residuals, importance) to path, atomically.
func (ev *Evaluation) WriteHTML(path string) error {
	return report.EvaluationPage(report.EvaluationOf(ev.bundle, ev.Model, ev.Data, ev.Metrics, ev.y, ev.pred)).WriteFile(path)
}

// WriteText writes the evaluation: the metrics beside the training ones,
// the confusion matrix of up to 12 classes, and unseen categories.
func (ev *Evaluation) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s on %s: %d rows, %s\n", ev.Model, ev.Data, ev.Rows, ev.Task)
	WriteMetrics(w, map[string]map[string]float64{"test": ev.Metrics, "train": ev.Training})
	if ev.Confusion != nil && len(ev.Classes) <= 12 {
		fmt.Fprintln(w, "\nconfusion matrix (rows: true, columns: predicted)")
		for i, row := range ev.Confusion {
			fmt.Fprintf(w, "  %-16.16s", ev.Classes[i])
			for _, v := range row {
				fmt.Fprintf(w, " %8d", v)
			}
			fmt.Fprintln(w)
		}
	}
	var err error
	for c, n := range ev.Unseen {
		_, err = fmt.Fprintf(w, "note: column %q had %d values of categories not seen in training\n", c, n)
	}
	return err
}

package mlflowmodel

import (
	"fmt"
	"io"
	"strings"

	"github.com/gyre-ml/gyre/internal/onnx"
)

// Report is what an export to an MLflow model directory reports (`gyre
// export --format mlflow --json`).
type Report struct {
	Model       string            `json:"model"`
	Format      string            `json:"format"`
	Out         string            `json:"out"`
	Files       []string          `json:"files"`
	Inputs      []ColSpec         `json:"inputs"`
	Outputs     []ColSpec         `json:"outputs"`
	ExampleRows int               `json:"example_rows"`
	Check       *onnx.SourceCheck `json:"check,omitempty"`
	Notes       []string          `json:"notes,omitempty"`
}

// Report describes the written directory res of the model reference ref.
func (res *Result) Report(ref string) *Report {
	return &Report{Model: ref, Format: "mlflow", Out: res.Dir, Files: res.Files, Inputs: res.Inputs,
		Outputs: res.Outputs, ExampleRows: res.ExampleRows, Notes: res.Notes}
}

// WriteText writes the report: the directory and its files, the
// signature, the check and the notes.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "exported %s as an MLflow model (python_function via mlflow.onnx) to %s/: %s\n", r.Model, r.Out, strings.Join(r.Files, ", "))
	names := make([]string, len(r.Outputs))
	for i, o := range r.Outputs {
		names[i] = o.Name
	}
	fmt.Fprintf(w, "signature: %d double input columns; outputs %s\n", len(r.Inputs), strings.Join(names, ", "))
	if c := r.Check; c != nil {
		fmt.Fprintf(w, "check:     %d rows of %s, max %s %.3g\n", c.Rows, c.Source, c.Measure, c.MaxDiff)
	}
	var err error
	for _, n := range r.Notes {
		_, err = fmt.Fprintf(w, "note:      %s\n", n)
	}
	return err
}

package onnx

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
)

// Result is what an export to ONNX reports (`gyre export --format onnx
// --json`): the model, the graph's input and outputs, and the check on a
// source when one ran.
type Result struct {
	Model     string       `json:"model"`
	Learner   string       `json:"learner"`
	Format    string       `json:"format"`
	Out       string       `json:"out"`
	Bytes     int          `json:"bytes"`
	Task      string       `json:"task"`
	Objective string       `json:"objective"`
	Trees     int          `json:"trees"`
	Opset     string       `json:"opset"`
	Input     InputSpec    `json:"input"`
	Outputs   []string     `json:"outputs"`
	Check     *SourceCheck `json:"check,omitempty"`
	Notes     []string     `json:"notes,omitempty"`
}

// SourceCheck is a Check on the rows of a named source.
type SourceCheck struct {
	Source string `json:"source"`
	Check
}

// InputSpec describes the graph's input tensor.
type InputSpec struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Features []string `json:"features"`
}

// DefaultOut is the file an export of the model reference ref is written
// to when none is given: the reference's base name (without .gyre, with
// "/", "@" and ":" made "-") plus suffix (".onnx", "-mlflow").
func DefaultOut(ref, suffix string) string {
	base := strings.TrimSuffix(filepath.Base(ref), ".gyre")
	return strings.NewReplacer("/", "-", "@", "-", ":", "-").Replace(base) + suffix
}

// ExportModel exports b, the model reference ref, to ONNX for out, with
// Gyre's metadata (target, run, producer gyreVersion) and a double input
// when double is set; the result describes the export.
func ExportModel(b *bundle.Bundle, ref, out, gyreVersion string, double bool) (*Export, *Result, error) {
	opts := []Option{WithProducerVersion(gyreVersion),
		WithDoc(fmt.Sprintf("Gyre %s model %s (target %q), exported by gyre %s", b.Manifest.Task, ref, b.Manifest.Target, gyreVersion)),
		WithMetadata("gyre.target", b.Manifest.Target),
		WithMetadata("gyre.run_id", b.Manifest.RunID)}
	precision := "float"
	if double {
		opts = append(opts, WithDoubleInput())
		precision = "double"
	}
	e, err := ExportBundle(b, opts...)
	if err != nil {
		return nil, nil, err
	}
	return e, &Result{
		Model: ref, Learner: e.Learner, Format: "onnx", Out: out, Bytes: len(e.Data),
		Task: b.Manifest.Task.String(), Objective: e.Objective, Trees: e.Trees,
		Opset:   fmt.Sprintf("ai.onnx %d, ai.onnx.ml %d", OpsetONNX, OpsetML),
		Input:   InputSpec{Name: InputName, Type: fmt.Sprintf("%s[N, %d]", precision, len(e.Features)), Features: e.Features},
		Outputs: e.Outputs, Notes: e.Notes,
	}, nil
}

// InputError is rows that do not encode to the graph's input (a missing
// or mistyped column): the input's fault, not the export's.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the encoding error.
func (e *InputError) Unwrap() error { return e.Err }

// InputError reports true: the rows are at fault.
func (e *InputError) InputError() bool { return true }

// CheckOn runs the exported graph on f's rows (read from source) and
// compares it with the bundle's predictions. Rows that do not encode are an
// *InputError.
func (e *Export) CheckOn(source string, f *frame.Frame) (*SourceCheck, error) {
	X, err := e.Encode(f)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	c, err := e.Check(X)
	if err != nil {
		return nil, err
	}
	return &SourceCheck{Source: source, Check: *c}, nil
}

// WriteText writes the result: the export, the input and outputs, the
// check and the notes.
func (r *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "exported %s (%s, %s, %d trees) to %s (%d bytes)\n", r.Model, r.Task, r.Objective, r.Trees, r.Out, r.Bytes)
	fmt.Fprintf(w, "input:   %s %s: %s\n", r.Input.Name, r.Input.Type, strings.Join(r.Input.Features, ", "))
	fmt.Fprintf(w, "outputs: %s\n", strings.Join(r.Outputs, ", "))
	if c := r.Check; c != nil {
		fmt.Fprintf(w, "check:   %d rows of %s, max %s %.3g", c.Rows, c.Source, c.Measure, c.MaxDiff)
		if c.LabelMismatches > 0 {
			fmt.Fprintf(w, ", %d label mismatches", c.LabelMismatches)
		}
		if c.Rounding > 0 {
			fmt.Fprintf(w, "; %d rows move with float32 input rounding", c.Rounding)
		}
		fmt.Fprintln(w)
	}
	var err error
	for _, n := range r.Notes {
		_, err = fmt.Fprintf(w, "note:    %s\n", n)
	}
	return err
}

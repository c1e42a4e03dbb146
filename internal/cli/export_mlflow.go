package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/mlflowmodel"
	"github.com/gyre-ml/gyre/internal/onnx"
)

// mlflowExportResult is the --json output of 'gyre export --format mlflow'.
type mlflowExportResult struct {
	Model       string                `json:"model"`
	Format      string                `json:"format"`
	Out         string                `json:"out"`
	Files       []string              `json:"files"`
	Inputs      []mlflowmodel.ColSpec `json:"inputs"`
	Outputs     []mlflowmodel.ColSpec `json:"outputs"`
	ExampleRows int                   `json:"example_rows"`
	Check       *exportCheck          `json:"check,omitempty"`
	Notes       []string              `json:"notes,omitempty"`
}

// exportMLflow writes b as an MLflow model directory (mlflowmodel.Write).
func exportMLflow(app *App, cmd *cobra.Command, b *bundle.Bundle, ref, out string, double bool, check string) error {
	ctx := cmd.Context()
	if out == "" {
		base := strings.TrimSuffix(filepath.Base(ref), ".gyre")
		out = strings.NewReplacer("/", "-", "@", "-", ":", "-").Replace(base) + "-mlflow"
	}
	var rows *frame.Frame
	if check != "" {
		f, err := app.loadFrame(ctx, check)
		if err != nil {
			return err
		}
		rows = f
	}
	res, err := mlflowmodel.Write(out, b, mlflowmodel.Options{Double: double, Example: rows, GyreVersion: Version, Ref: ref})
	switch {
	case errors.Is(err, onnx.ErrEnsemble):
		return usageErrorf("export %s: %v (train one with 'gyre train --learner gbdt')", ref, err)
	case errors.Is(err, onnx.ErrSmoothed):
		return usageErrorf("export %s: %v: rerun automl with --no-calibrate for an exportable model", ref, err)
	case errors.Is(err, onnx.ErrNotGBDT), errors.Is(err, mlflowmodel.ErrExists):
		return usageErrorf("export %s: %v", ref, err)
	case err != nil:
		return failed(fmt.Errorf("export %s: %w", ref, err))
	}
	r := mlflowExportResult{Model: ref, Format: "mlflow", Out: out, Files: res.Files, Inputs: res.Inputs,
		Outputs: res.Outputs, ExampleRows: res.ExampleRows, Notes: res.Notes}
	if rows != nil {
		X, err := res.Export.Encode(rows)
		if err != nil {
			return fmt.Errorf("export --check %s: %w", check, err)
		}
		c, err := res.Export.Check(X)
		if err != nil {
			return failed(fmt.Errorf("export --check %s: %w", check, err))
		}
		r.Check = &exportCheck{Source: check, Check: *c}
	}
	if app.JSON {
		if err := app.printJSON(r); err != nil {
			return err
		}
	} else {
		w := app.Stdout
		fmt.Fprintf(w, "exported %s as an MLflow model (python_function via mlflow.onnx) to %s/: %s\n", ref, out, strings.Join(r.Files, ", "))
		names := make([]string, len(r.Outputs))
		for i, o := range r.Outputs {
			names[i] = o.Name
		}
		fmt.Fprintf(w, "signature: %d double input columns; outputs %s\n", len(r.Inputs), strings.Join(names, ", "))
		if c := r.Check; c != nil {
			fmt.Fprintf(w, "check:     %d rows of %s, max %s %.3g\n", c.Rows, c.Source, c.Measure, c.MaxDiff)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note:      %s\n", n)
		}
	}
	if r.Check != nil && !r.Check.OK {
		return fmt.Errorf("export --check: the ONNX model differs from Gyre by %.3g (> %g) on %s: %w", r.Check.MaxDiff, onnx.CheckTolerance, check, ErrCheckFailed)
	}
	return nil
}

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/mlflowmodel"
	"github.com/gyre-ml/gyre/internal/onnx"
)

// exportMLflow writes b as an MLflow model directory (mlflowmodel.Write).
func exportMLflow(app *App, cmd *cobra.Command, b *bundle.Bundle, ref, out string, double bool, check string) error {
	ctx := cmd.Context()
	if out == "" {
		out = onnx.DefaultOut(ref, "-mlflow")
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
	if err != nil {
		return exportError(ref, err)
	}
	r := res.Report(ref)
	if rows != nil {
		if r.Check, err = res.Export.CheckOn(check, rows); err != nil {
			return failed(fmt.Errorf("export --check %s: %w", check, err))
		}
	}
	if err := app.print(r); err != nil {
		return err
	}
	if r.Check != nil && !r.Check.OK {
		return fmt.Errorf("export --check: the ONNX model differs from Gyre by %.3g (> %g) on %s: %w", r.Check.MaxDiff, onnx.CheckTolerance, check, ErrCheckFailed)
	}
	return nil
}

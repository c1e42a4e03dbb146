package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/mlflowmodel"
	"github.com/gyre-ml/gyre/internal/onnx"
)

func init() { register(newExportCmd) }

func newExportCmd(app *App) *cobra.Command {
	var format, out, check, precision string
	cmd := &cobra.Command{
		Use:   "export MODEL --format onnx|mlflow [--out model.onnx|DIR] [--check SOURCE]",
		Short: "Export a model to ONNX or an MLflow model directory",
		Long: `Export MODEL (a bundle file or registry reference) to another format.

--format onnx writes the fitted gbdt ensemble as an ONNX model (opset 17,
ai.onnx.ml 3): one TreeEnsembleRegressor (regression; Poisson adds an Exp) or
TreeEnsembleClassifier (outputs "label" and "probabilities"). Its input
"input" is a float tensor [N, p], the bundle's encoded design matrix in
feature order: numbers as floats, bools as 0/1, times as Unix seconds, text
and categorical columns as integer codes into the sorted levels (stored with
the feature names in the model's "gyre.features" metadata), missing as NaN.
The raw-column preprocessing is not part of the graph.

--precision double makes the input a double tensor and stores thresholds and
leaf values as doubles, so runtimes that evaluate in double (onnxruntime does)
reproduce Gyre's predictions to float32 output precision; the default float
input is the most portable and sums trees in float32 (about 1e-6 relative).

--check SOURCE runs the exported graph on SOURCE's rows with Gyre's built-in
ONNX interpreter and compares it with the bundle's predictions (tolerance
1e-5); a mismatch fails the command. Only single-member gbdt bundles export.

--format mlflow writes an MLflow model directory --out DIR (default
MODEL-mlflow): MLmodel with the onnx and python_function flavors
(loader_module mlflow.onnx), model.onnx, conda.yaml, python_env.yaml,
requirements.txt, input_example.json and a column-based signature, so
'mlflow models serve -m DIR' or a registry can take the model. Its graph has
one output per class probability (proba_CLASS) beside "label", as MLflow's
ONNX pyfunc returns one column per output. --check SOURCE gives the input
example's rows (else the reference profile's medians) and checks the graph.`,
		Example: "  gyre export adult.gyre --format onnx --out adult.onnx\n" +
			"  gyre export churn@production --format onnx --out churn.onnx --check data/churn.test.csv --json\n" +
			"  gyre export churn@production --format mlflow --out churn-mlflow --check data/churn.test.csv",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			format = strings.ToLower(format)
			if format != "onnx" && format != "mlflow" {
				return usageErrorf("export: --format %q is not supported (want onnx or mlflow)", format)
			}
			if precision != "float" && precision != "double" {
				return usageErrorf("export: --precision %q: want float or double", precision)
			}
			double := precision == "double"
			b, ref, err := app.loadBundle(ctx, args[0])
			if err != nil {
				return err
			}
			if format == "mlflow" {
				return exportMLflow(app, cmd, b, ref, out, double, check)
			}
			if out == "" {
				out = onnx.DefaultOut(args[0], ".onnx")
			}
			e, res, err := onnx.ExportModel(b, ref, out, Version, double)
			if err != nil {
				return exportError(ref, err)
			}
			if check != "" {
				f, err := app.loadFrame(ctx, check)
				if err != nil {
					return err
				}
				if res.Check, err = e.CheckOn(check, f); err != nil {
					return failed(fmt.Errorf("export --check %s: %w", check, err))
				}
			}
			data := e.Data
			if err := writeFileAtomic(out, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
				return failed(fmt.Errorf("export: write %s: %w", out, err))
			}
			if err := app.print(res); err != nil {
				return err
			}
			if res.Check != nil && !res.Check.OK {
				return fmt.Errorf("export --check: the ONNX model differs from Gyre by %.3g (> %g) on %s: %w", res.Check.MaxDiff, onnx.CheckTolerance, check, ErrCheckFailed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "onnx", "export format: onnx or mlflow")
	cmd.Flags().StringVar(&out, "out", "", "output file, or directory for mlflow (default MODEL.onnx or MODEL-mlflow in the current directory)")
	cmd.Flags().StringVar(&precision, "precision", "float", "input and threshold precision: float or double")
	cmd.Flags().StringVar(&check, "check", "", "data to compare the export's predictions with the model's on")
	return cmd
}

// exportError words an export's refusal (an ensemble, a non-gbdt model,
// smoothing, an existing directory) as an input error naming what to do.
func exportError(ref string, err error) error {
	switch {
	case errors.Is(err, onnx.ErrEnsemble):
		return usageErrorf("export %s: %v (train one with 'gyre train --learner gbdt')", ref, err)
	case errors.Is(err, onnx.ErrSmoothed):
		return usageErrorf("export %s: %v: rerun automl with --no-calibrate for an exportable model", ref, err)
	case errors.Is(err, onnx.ErrNotGBDT), errors.Is(err, mlflowmodel.ErrExists):
		return usageErrorf("export %s: %v", ref, err)
	}
	return failed(fmt.Errorf("export %s: %w", ref, err))
}

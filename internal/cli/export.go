package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/onnx"
)

func init() { register(newExportCmd) }

// exportResult is the --json output of 'gyre export'.
type exportResult struct {
	Model     string       `json:"model"`
	Learner   string       `json:"learner"`
	Format    string       `json:"format"`
	Out       string       `json:"out"`
	Bytes     int          `json:"bytes"`
	Task      string       `json:"task"`
	Objective string       `json:"objective"`
	Trees     int          `json:"trees"`
	Opset     string       `json:"opset"`
	Input     exportTensor `json:"input"`
	Outputs   []string     `json:"outputs"`
	Check     *exportCheck `json:"check,omitempty"`
	Notes     []string     `json:"notes,omitempty"`
}

// exportCheck is onnx.Check on the named source.
type exportCheck struct {
	Source string `json:"source"`
	onnx.Check
}

type exportTensor struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Features []string `json:"features"`
}

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
				base := filepath.Base(args[0])
				if ext := filepath.Ext(base); ext == ".gyre" {
					base = strings.TrimSuffix(base, ext)
				}
				base = strings.NewReplacer("/", "-", "@", "-", ":", "-").Replace(base)
				out = base + ".onnx"
			}
			opts := []onnx.Option{onnx.WithProducerVersion(Version),
				onnx.WithDoc(fmt.Sprintf("Gyre %s model %s (target %q), exported by gyre %s", b.Manifest.Task, ref, b.Manifest.Target, Version)),
				onnx.WithMetadata("gyre.target", b.Manifest.Target),
				onnx.WithMetadata("gyre.run_id", b.Manifest.RunID)}
			if double {
				opts = append(opts, onnx.WithDoubleInput())
			}
			e, err := onnx.ExportBundle(b, opts...)
			switch {
			case errors.Is(err, onnx.ErrEnsemble):
				return usageErrorf("export %s: %v (train one with 'gyre train --learner gbdt')", ref, err)
			case errors.Is(err, onnx.ErrSmoothed):
				return usageErrorf("export %s: %v: rerun automl with --no-calibrate for an exportable model", ref, err)
			case errors.Is(err, onnx.ErrNotGBDT):
				return usageErrorf("export %s: %v", ref, err)
			case err != nil:
				return failed(fmt.Errorf("export %s: %w", ref, err))
			}
			res := exportResult{
				Model: ref, Learner: e.Learner, Format: "onnx", Out: out, Bytes: len(e.Data),
				Task: b.Manifest.Task.String(), Objective: e.Objective, Trees: e.Trees,
				Opset:   fmt.Sprintf("ai.onnx %d, ai.onnx.ml %d", onnx.OpsetONNX, onnx.OpsetML),
				Input:   exportTensor{Name: onnx.InputName, Type: fmt.Sprintf("%s[N, %d]", precision, len(e.Features)), Features: e.Features},
				Outputs: e.Outputs, Notes: e.Notes,
			}
			if check != "" {
				f, err := app.loadFrame(ctx, check)
				if err != nil {
					return err
				}
				X, err := e.Encode(f)
				if err != nil {
					return fmt.Errorf("export --check %s: %w", check, err)
				}
				c, err := e.Check(X)
				if err != nil {
					return failed(fmt.Errorf("export --check %s: %w", check, err))
				}
				res.Check = &exportCheck{Source: check, Check: *c}
			}
			data := e.Data
			if err := writeFileAtomic(out, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
				return failed(fmt.Errorf("export: write %s: %w", out, err))
			}
			if app.JSON {
				if err := app.printJSON(res); err != nil {
					return err
				}
			} else {
				w := app.Stdout
				fmt.Fprintf(w, "exported %s (%s, %s, %d trees) to %s (%d bytes)\n", ref, res.Task, res.Objective, res.Trees, out, res.Bytes)
				fmt.Fprintf(w, "input:   %s %s: %s\n", res.Input.Name, res.Input.Type, strings.Join(res.Input.Features, ", "))
				fmt.Fprintf(w, "outputs: %s\n", strings.Join(res.Outputs, ", "))
				if c := res.Check; c != nil {
					fmt.Fprintf(w, "check:   %d rows of %s, max %s %.3g", c.Rows, c.Source, c.Measure, c.MaxDiff)
					if c.LabelMismatches > 0 {
						fmt.Fprintf(w, ", %d label mismatches", c.LabelMismatches)
					}
					if c.Rounding > 0 {
						fmt.Fprintf(w, "; %d rows move with float32 input rounding", c.Rounding)
					}
					fmt.Fprintln(w)
				}
				for _, n := range res.Notes {
					fmt.Fprintf(w, "note:    %s\n", n)
				}
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

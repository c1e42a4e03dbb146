package cli

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
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

type exportTensor struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Features []string `json:"features"`
}

// exportCheck compares the exported graph (run by onnx.Evaluate) with the
// bundle's own predictions.
type exportCheck struct {
	Source  string  `json:"source"`
	Rows    int     `json:"rows"`
	MaxDiff float64 `json:"max_difference"`
	// Measure says what MaxDiff measures.
	Measure string `json:"measure"`
	// LabelMismatches counts rows whose predicted class differs.
	LabelMismatches int `json:"label_mismatches,omitempty"`
	// Rounding counts rows whose prediction moves by more than the
	// tolerance when Gyre sees the unrounded float64 values instead of the
	// float32 values a float-input ONNX model sees (values within float32
	// precision of a split); always 0 with --precision double.
	Rounding int  `json:"rows_sensitive_to_float32_rounding"`
	OK       bool `json:"ok"`
}

// exportTolerance is the agreement the export check demands: absolute for
// probabilities, relative (to max(1, |y|)) for regression values.
const exportTolerance = 1e-5

func newExportCmd(app *App) *cobra.Command {
	var format, out, check, precision string
	cmd := &cobra.Command{
		Use:   "export MODEL --format onnx [--out model.onnx] [--check SOURCE]",
		Short: "Export a model to ONNX, to run wherever ONNX runs",
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
1e-5); a mismatch fails the command. Only single-member gbdt bundles export.`,
		Example: "  gyre export adult.gyre --format onnx --out adult.onnx\n" +
			"  gyre export churn@production --format onnx --out churn.onnx --check data/churn.test.csv --json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if strings.ToLower(format) != "onnx" {
				return usageErrorf("export: --format %q is not supported (want onnx)", format)
			}
			if precision != "float" && precision != "double" {
				return usageErrorf("export: --precision %q: want float or double", precision)
			}
			double := precision == "double"
			b, ref, err := app.loadBundle(ctx, args[0])
			if err != nil {
				return err
			}
			if len(b.Members) != 1 {
				return usageErrorf("export %s: the model is an ensemble of %d members (%s); only single-model bundles export to ONNX (train one with 'gyre train --learner gbdt')", ref, len(b.Members), memberNames(b.Members))
			}
			mem := b.Members[0]
			m := gbdt.AsModel(mem.Model)
			if m == nil {
				return usageErrorf("export %s: the model is a %s model; only gbdt models export to ONNX", ref, mem.Info.Learner)
			}
			if out == "" {
				base := filepath.Base(args[0])
				if ext := filepath.Ext(base); ext == ".gyre" {
					base = strings.TrimSuffix(base, ext)
				}
				base = strings.NewReplacer("/", "-", "@", "-", ":", "-").Replace(base)
				out = base + ".onnx"
			}
			feats := mem.Prep.Features()
			opts := []onnx.Option{onnx.WithProducerVersion(Version),
				onnx.WithDoc(fmt.Sprintf("Gyre %s model %s (target %q), exported by gyre %s", b.Manifest.Task, ref, b.Manifest.Target, Version)),
				onnx.WithMetadata("gyre.target", b.Manifest.Target),
				onnx.WithMetadata("gyre.run_id", b.Manifest.RunID)}
			if double {
				opts = append(opts, onnx.WithDoubleInput())
			}
			if mem.Info.Smoothing != 0 {
				return usageErrorf("export %s: the model's probabilities are smoothed (by %g, fitted by automl on log loss); ONNX export folds a temperature into the trees but cannot express smoothing: rerun automl with --no-calibrate for an exportable model", ref, mem.Info.Smoothing)
			}
			// A single member's own temperature and the bundle's compose:
			// (p^(1/a))^(1/b) = p^(1/(a·b)).
			if t := temperatureOr1(mem.Info.Temperature) * temperatureOr1(b.Manifest.Temperature); t != 1 {
				opts = append(opts, onnx.WithTemperature(t))
			}
			data, err := onnx.ExportGBDT(m, feats, opts...)
			if err != nil {
				return failed(fmt.Errorf("export %s: %w", ref, err))
			}
			res := exportResult{
				Model: ref, Learner: mem.Info.Learner, Format: "onnx", Out: out, Bytes: len(data),
				Task: b.Manifest.Task.String(), Objective: m.Objective(), Trees: m.NumTrees(),
				Opset: fmt.Sprintf("ai.onnx %d, ai.onnx.ml %d", onnx.OpsetONNX, onnx.OpsetML),
				Input: exportTensor{Name: onnx.InputName, Type: fmt.Sprintf("%s[N, %d]", precision, len(feats))},
			}
			for _, f := range feats {
				res.Input.Features = append(res.Input.Features, f.Name)
			}
			if b.Manifest.Task.Classification() {
				res.Outputs = []string{onnx.OutputLabel, onnx.OutputProbability}
			} else {
				res.Outputs = []string{onnx.OutputValue}
			}
			if mem.Prep.Pipeline != nil {
				res.Notes = append(res.Notes, "the bundle's fitted preprocessing pipeline is not part of the ONNX graph: feed it the pipeline's encoded output")
			}
			if check != "" {
				f, err := app.loadFrame(ctx, check)
				if err != nil {
					return err
				}
				X, _, err := mem.Prep.Transform(f)
				if err != nil {
					return fmt.Errorf("export --check %s: %w", check, err)
				}
				if res.Check, err = checkExport(m, data, X, double); err != nil {
					return failed(fmt.Errorf("export --check %s: %w", check, err))
				}
				res.Check.Source = check
			}
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
				return fmt.Errorf("export --check: the ONNX model differs from Gyre by %.3g (> %g) on %s: %w", res.Check.MaxDiff, exportTolerance, check, ErrCheckFailed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "onnx", "export format (onnx)")
	cmd.Flags().StringVar(&out, "out", "", "output file (default MODEL.onnx in the current directory)")
	cmd.Flags().StringVar(&precision, "precision", "float", "input and threshold precision: float or double")
	cmd.Flags().StringVar(&check, "check", "", "data to compare the export's predictions with the model's on")
	return cmd
}

// checkExport runs the exported graph on X (rounded to float32 unless
// double, as an ONNX runtime receives it) and compares it with m's
// predictions on the same values.
func checkExport(m *gbdt.Model, data []byte, X *frame.Matrix, double bool) (*exportCheck, error) {
	n, p := X.Rows, X.Cols
	X32 := frame.NewMatrix(n, p)
	in := make([]float64, n*p)
	for i := range n {
		for j := range p {
			v := X.At(i, j)
			in[i*p+j] = v
			if !double {
				v = float64(float32(v))
			}
			X32.Set(i, j, v)
		}
	}
	res, err := onnx.Evaluate(data, in, n, p)
	if err != nil {
		return nil, err
	}
	c := &exportCheck{Rows: n}
	// values returns the comparable outputs of m on x: probabilities
	// (row-major n×k) or regression values.
	values := func(x *frame.Matrix) ([]float64, error) {
		if m.Task().Classification() {
			return m.Probabilities(x)
		}
		return m.Predict(x)
	}
	want, err := values(X32)
	if err != nil {
		return nil, err
	}
	full, err := values(X)
	if err != nil {
		return nil, err
	}
	// Regression values compare relative to the prediction scale: float32
	// sums lose precision relative to the partial sums (base score and leaf
	// values), not to a small final value.
	scale := 0.0
	for _, v := range want {
		scale += math.Abs(v) / float64(len(want))
	}
	diff := func(a, b float64) float64 {
		if m.Task().Classification() {
			return math.Abs(a - b)
		}
		return math.Abs(a-b) / max(1, math.Abs(b), scale)
	}
	var got []float32
	if m.Task().Classification() {
		c.Measure = "probability difference"
		got = res[onnx.OutputProbability].Floats
		pred, err := m.Predict(X32)
		if err != nil {
			return nil, err
		}
		for i, l := range res[onnx.OutputLabel].Strings {
			if l != m.Classes()[int(pred[i])] {
				c.LabelMismatches++
			}
		}
	} else {
		c.Measure = "relative difference (to max(1, |prediction|, mean |prediction|))"
		got = res[onnx.OutputValue].Floats
	}
	if len(got) != len(want) {
		return nil, fmt.Errorf("the ONNX model gave %d values, want %d", len(got), len(want))
	}
	k := len(want) / max(n, 1)
	moved := make([]bool, n)
	for i := range want {
		c.MaxDiff = max(c.MaxDiff, diff(float64(got[i]), want[i]))
		if diff(full[i], want[i]) > exportTolerance {
			moved[i/k] = true
		}
	}
	for _, mv := range moved {
		if mv {
			c.Rounding++
		}
	}
	// A label may flip only on a float32 near-tie; the probabilities check
	// bounds those.
	c.OK = c.MaxDiff <= exportTolerance
	return c, nil
}

// temperatureOr1 reads a bundle or AutoML temperature, where 0 means none.
func temperatureOr1(t float64) float64 {
	if t == 0 {
		return 1
	}
	return t
}

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/modelimport"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/registry"
)

func newModelsImportCmd(app *App) *cobra.Command {
	var o modelimport.Options
	var out, register, reference string
	cmd := &cobra.Command{
		Use:   "import FILE [--format xgboost-json|xgboost-ubj|lightgbm|onnx] [--register NAME]",
		Short: "Turn an XGBoost, LightGBM or ONNX tree model into a Gyre bundle",
		Long: `Import a tree model made elsewhere as a Gyre bundle that predicts, serves,
explains and monitors like one Gyre trained:

  xgboost-json, xgboost-ubj  Booster.save_model("m.json" / "m.ubj"), XGBoost 1.x-2.x;
                             gbtree and dart boosters; binary:logistic/logitraw,
                             multi:softprob/softmax, reg:squarederror/absoluteerror/
                             pseudohubererror, count:poisson, reg:gamma/tweedie
  lightgbm                   a LightGBM text model (Booster.save_model("m.txt"));
                             regression, binary, multiclass, poisson/gamma/tweedie
  onnx                       one ai.onnx.ml TreeEnsembleRegressor/Classifier, or
                             opset 5's TreeEnsemble (BRANCH_MEMBER included), over a
                             float or double [N, p] input (Cast, Exp, ZipMap allowed)

The format is detected from the content when --format is not given. Splits,
missing-value directions and base scores are kept; predictions match the
original's (within 1e-6: XGBoost and float ONNX graphs sum in float32).
Categorical splits (XGBoost's enable_categorical, LightGBM's
categorical_feature) are kept: such a column takes its category codes as
numbers (pandas .cat.codes), or its names given --levels NAME=A,B,C (the
categories in code order; LightGBM models trained on pandas store them).
Linear trees and ranking objectives are refused with an error saying so. The bundle's input columns are the model's feature names
(or f0, f1, ...: rename them with --features); --reference DATA stores DATA's
profile as the drift reference 'gyre monitor' and 'gyre serve' compare with.`,
		Example: "  gyre models import churn.json --target churned --classes stay,leave --register churn\n" +
			"  gyre models import model.txt --format lightgbm --out lgb.gyre --reference train.csv\n" +
			"  gyre models import forest.onnx --features age,income,score --json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			file := args[0]
			if register != "" {
				if err := registry.CheckName("model", register); err != nil {
					return err
				}
			}
			if o.Format != "" && !strings.Contains(","+strings.Join(modelimport.Formats, ",")+",", ","+strings.ToLower(o.Format)+",") {
				return usageErrorf("models import: --format %q: want one of %s", o.Format, strings.Join(modelimport.Formats, ", "))
			}
			if _, err := os.Stat(file); err != nil {
				return fmt.Errorf("models import: %w", err)
			}
			res, err := modelimport.ImportFile(file, o)
			if err != nil {
				return usageErrorf("%w", err) // the file is at fault: exit 2
			}
			b := res.Bundle
			b.Manifest.GyreVersion = Version
			if reference != "" {
				f, err := app.loadFrame(ctx, reference)
				if err != nil {
					return err
				}
				if b.Profile, err = monitor.ReferenceProfile(ctx, f, b.Manifest.Target); err != nil {
					return fmt.Errorf("models import: --reference %s: %w", reference, err)
				}
			}
			if out == "" {
				base := filepath.Base(file)
				out = strings.TrimSuffix(base, filepath.Ext(base)) + ".gyre"
			}
			if err := b.Save(out); err != nil {
				return failed(fmt.Errorf("models import: %w", err))
			}
			r := res.Report(file, out, reference)
			if register != "" {
				st, err := app.openBackend(ctx)
				if err != nil {
					return err
				}
				defer st.Close()
				v, err := st.RegisterFile(ctx, register, out, registry.RegisterOptions{Description: fmt.Sprintf("imported from %s (%s)", filepath.Base(file), res.Format)})
				if err != nil {
					return storeError(err)
				}
				r.Registered = v.Ref()
			}
			return app.print(r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "", "model format: "+strings.Join(modelimport.Formats, ", ")+" (default: detected)")
	f.StringVar(&o.Target, "target", "", "name of the predicted column (default target)")
	f.StringSliceVar(&o.Classes, "classes", nil, "class names in the model's output order (default: stored labels, else 0, 1, ...)")
	f.StringSliceVar(&o.Features, "features", nil, "input column names in the model's feature order (default: stored names, else f0, f1, ...)")
	f.Var(&o.Levels, "levels", "a categorical feature's categories in code order, NAME=A,B,C (repeatable; default: stored in the model, else codes as numbers)")
	f.StringVar(&out, "out", "", "bundle file to write (default FILE's name with .gyre)")
	f.StringVar(&register, "register", "", "register the bundle as a new version of this model")
	f.StringVar(&reference, "reference", "", "data whose profile becomes the drift reference")
	return cmd
}

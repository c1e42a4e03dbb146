// Package onnx exports fitted Gyre models to ONNX, so a Gyre model can run
// anywhere ONNX runs (onnxruntime, ONNX.js, Triton, ...).
//
// [ExportBundle] holds the rules for a model bundle: one gbdt member,
// its and the bundle's temperatures folded into the trees, smoothing
// refused (ErrEnsemble, ErrNotGBDT, ErrSmoothed); [Export.Check] runs the
// exported graph with [Evaluate] and compares it with the model's own
// calibrated predictions within [CheckTolerance].
//
// [ExportGBDT] turns a fitted gradient-boosted ensemble (learn/gbdt) into
// an ONNX model of one ai.onnx.ml TreeEnsembleRegressor or
// TreeEnsembleClassifier node (opset 17, ai.onnx.ml 3, IR version 8):
//
//   - input "input": float tensor [N, p], the encoded design matrix in the
//     model's feature order: numbers as floats, categorical features as the
//     encoder's integer category codes (0..levels-1, levels sorted as in
//     learn.Feature.Levels), missing values as NaN. The feature names and
//     category levels are stored in the model's metadata ("gyre.features").
//   - regression: output "variable" float [N, 1]; the Poisson objective adds
//     an Exp node so the output is the predicted mean, as in Gyre.
//   - classification: outputs "label" string [N] (the class name) and
//     "probabilities" float [N, classes]; post_transform LOGISTIC for
//     binary models and SOFTMAX for multiclass ones.
//
// Each numeric split x ≤ t becomes a BRANCH_LEQ node whose threshold is t
// rounded down to float32, so every float32 input follows the same branch
// as in Gyre; the learned missing-value direction becomes
// nodes_missing_value_tracks_true. A categorical set split becomes a chain
// of BRANCH_EQ nodes (one per category that goes left) whose true branches
// share the left subtree, the encoding onnxmltools uses for LightGBM and
// onnxruntime accepts; when missing values go left, a leading BRANCH_LT 0
// node routes NaN and negative codes there.
//
// The model's base score becomes base_values. With a float input, runtimes
// sum the trees in float32, so outputs match Gyre's float64 predictions on
// the same (float32-rounded) inputs to about 1e-6 relative to the
// prediction scale. [WithDoubleInput] exports a double input with exact
// double thresholds, leaf values and base values (the *_as_tensor
// attributes); onnxruntime then evaluates in double and the outputs (float,
// as the operators define them) match Gyre's to float32 precision, on
// unrounded inputs.
//
// Float inputs carry 24 bits of precision: integer features beyond 2^24
// and Unix-second times (about 2 minutes' resolution) can land on the other
// side of a split than in Gyre; use WithDoubleInput for them.
//
// [Evaluate] is a small reference interpreter of exactly these graphs
// (following onnxruntime's semantics), used by the tests and by
// 'gyre export --check' to compare an export with Gyre without a runtime.
package onnx

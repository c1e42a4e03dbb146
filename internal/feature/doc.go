// Package feature holds Gyre's data preparation: fitted, serialisable
// transforms (cleaning, encoding, scaling, feature creation, selection), the
// Pipeline that chains them, the design-matrix Encoder every learner uses,
// target encoding for learning problems, and seeded row splits.
//
// # Steps
//
// A Step is a plain struct of parameters (what a recipe file lists). Fitting a
// Step on training rows returns a separate Fitted value holding everything it
// learned; only the Fitted value transforms data. Both are registered by type
// name (Register) so a pipeline round-trips through JSON: it travels inside
// the model bundle and serving applies exactly what training learned. Saving
// and loading a fitted pipeline gives bit-identical output: floats are written
// in Go's shortest exact form, and NaN and ±Inf as strings.
//
// Some steps treat their own training rows differently from new rows:
// duplicate removal and outlier dropping act on training rows only, and target
// encoding gives each training row an out-of-fold encoding. Pipeline.Fit
// returns the transformed training frame built that way; Pipeline.Transform
// is the serving path.
//
// Steps act on feature columns only: columns whose role is target, id or
// ignore pass through untouched (the target is read, never changed). A step's
// Columns list narrows it further; an empty list means every feature column of
// the kinds the step handles.
//
// # Design matrix
//
// Encoder turns a frame into the *frame.Matrix learners consume: numbers and
// booleans as floats, times as Unix seconds, categories as integer codes
// learned at fit (levels sorted lexicographically), missing as NaN. Unseen
// categories become NaN and are counted. EncodeTarget turns the target column
// into class indices (classes sorted, as scikit-learn's LabelEncoder) or
// regression values.
//
// # Splits
//
// Split, KFold, StratifiedKFold, GroupKFold and RepeatedKFold return row index
// slices. Every random choice uses math/rand/v2's PCG seeded explicitly, so a
// seed fixes the result.
package feature

// Package metric holds Gyre's scoring functions and a registry of named,
// oriented metrics that evaluation, AutoML and monitoring look up by name.
//
// Every function agrees with scikit-learn (the version recorded in
// testdata/metric/golden.json) to 1e-9, including sample weights, ties in
// scores and the zero-division conventions (a precision or recall with an
// empty denominator is 0, as with zero_division=0).
//
// Conventions. Targets and predictions are []float64: regression values, or
// class indices 0..k-1 for classification. Probabilities are row-major n×k
// slices (row i is proba[i*k:(i+1)*k]), the layout learn.Prober returns.
// Binary functions that take scores treat class 1 as the positive class.
// Weights are optional (nil means every row weighs 1) and must be finite and
// non-negative. Functions never panic on bad input: they return an error that
// starts with the metric's name and says what was expected.
//
// The registry (Lookup, LookupTask, Default, All) describes each metric by
// Name, the Tasks it applies to, its orientation (HigherIsBetter) and whether
// it needs probabilities (NeedsProba); Metric.Score evaluates it on an Input.
// Task mirrors learn.Task numerically (metric.Task(learnTask) converts) so
// this package, at layer 0, imports only the standard library.
package metric

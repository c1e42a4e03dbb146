// Package learn holds the contracts every learner and model in Gyre satisfies,
// and the registry of learners by name.
//
// A learner is a plain struct of documented hyperparameters with defaults
// (its zero value is not necessarily valid: construct it through the registry
// or the family's New function). Fit validates the hyperparameters, honours ctx
// cancellation and the Seed, never modifies its Dataset, and returns a separate
// fitted Model. Copying a learner struct clones it.
//
// Learners see only numeric data: a feature-major frame.Matrix with NaN for
// missing values. Categorical features arrive as integer codes 0..k-1 and are
// flagged in Dataset.Features so learners with native categorical support
// (gradient boosting, trees) can use them; other learners receive one-hot or
// otherwise encoded matrices from the feature pipeline.
//
// Optional abilities are one-method interfaces found by type assertion:
// Prober (class probabilities), Importancer (feature importance), Explainer
// (per-row contributions).
package learn

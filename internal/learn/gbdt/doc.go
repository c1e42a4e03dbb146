// Package gbdt is Gyre's histogram gradient-boosted decision trees, in the
// style of LightGBM: the workhorse learner that AutoML spends most of its
// budget on. It is registered as learner "gbdt".
//
// # Model of computation
//
// Fit first quantises every feature into at most MaxBins value bins (a uint8
// per cell, feature-major, plus one reserved bin per feature for missing
// values), producing a [Binned] matrix. Numeric features use quantile bins
// computed from a deterministic sample of up to 200,000 rows; categorical
// features (learn.Feature.Categorical) bin by category code. A Binned matrix
// depends only on the design matrix and MaxBins, so callers that fit many
// configurations on the same data (AutoML) build it once with [BinDataset]
// and hand it to each Learner through its Binned field: binning is then
// skipped and every fit (on any row view of the same matrix) reuses it.
//
// Trees grow leaf-wise (best-first): the leaf whose best split gains most is
// split next, until MaxLeaves, MaxDepth, MinDataInLeaf, MinSumHessian or
// MinGain stop it. Each leaf keeps its rows as a segment of one index array
// (so row views of the data are honoured without copying the binned matrix);
// gradient/hessian pairs are gathered into leaf order before histograms are
// built over the uint8 bins, in parallel over features. Only the smaller
// child of a split is histogrammed; the larger child's histogram is the
// parent's minus the smaller's. Split finding learns a default direction for
// missing values, orders categories by their gradient statistics for native
// categorical splits, and applies L1/L2 regularisation and monotone
// constraints.
//
// Fit returns a [*Model] for regression and a [*Classifier] (a *Model plus
// learn.Prober) for classification; [AsModel] recovers the *Model from
// either. Gradients are quantised per tree to integers and packed, gradient
// and hessian, into one int64 per row, so histogram building and
// subtraction are integer adds (exact, order-independent); final leaf
// values are computed from the exact float gradients.
//
// Fitted trees are stored as flat arrays with real-valued thresholds, so a
// [Model] predicts directly on float64 matrices (NaN = missing), in parallel
// over blocks of rows. Models give probabilities (learn.Prober), gain
// importance (learn.Importancer) and exact TreeSHAP contributions
// (learn.Explainer), serialise to a compact checksummed binary form, and can
// be trained further ([Model.Continue], or Learner.InitModel).
//
// # Determinism
//
// Every floating-point reduction runs in a fixed order (histograms are summed
// per feature in leaf-row order; parallel work is split across features or
// independent rows), so the same data, hyperparameters and Seed give a
// bit-identical model whatever the thread count.
package gbdt

package automl

import (
	"slices"

	"github.com/gyre-ml/gyre/internal/learn"
)

// DefaultSpaces returns the built-in search spaces for a task, for the
// learners registered in this build. Ranges and low-cost starting points
// follow FLAML's published defaults for the corresponding estimators
// (LightGBM → gbdt, RandomForest → random_forest, ExtraTrees → extra_trees,
// LogisticRegression L1 → logistic_regression); CostFactor is each learner's
// starting cost relative to gbdt, as FLAML's init cost ratios are.
func DefaultSpaces(task learn.Task) []Space {
	return defaultSpaces(task)
}

// KNNMaxRows is the largest training set k-NN is searched on by default:
// its predictions cost a distance per training row, so cross-validating it
// on larger data takes time the other learners use better.
const KNNMaxRows = 5000

// SqrtFeatures as a default configuration's max_features stands for
// scikit-learn's classification default, √p of the p features (as a
// fraction); the search resolves it against the data.
const SqrtFeatures = -1

func defaultSpaces(task learn.Task) []Space {
	all := []Space{
		{
			Learner: "gbdt", Family: "trees", CostFactor: 1,
			Domains: []Domain{
				{Param: "n_estimators", Lo: 4, Hi: 4096, Log: true, Int: true, Init: 4, CostExp: 1},
				{Param: "max_leaves", Lo: 4, Hi: 1024, Log: true, Int: true, Init: 4, CostExp: 0.5},
				{Param: "min_data_in_leaf", Lo: 2, Hi: 128, Log: true, Int: true, Init: 20},
				{Param: "learning_rate", Lo: 1.0 / 1024, Hi: 1, Log: true, Init: 0.1},
				{Param: "colsample", Lo: 0.1, Hi: 1, Init: 1},
				{Param: "subsample", Lo: 0.5, Hi: 1, Init: 1},
				{Param: "l1", Lo: 1.0 / 1024, Hi: 1024, Log: true, Init: 1.0 / 1024},
				{Param: "l2", Lo: 1.0 / 1024, Hi: 1024, Log: true, Init: 1},
			},
			Defaults: []map[string]float64{
				// LightGBM's defaults.
				{"n_estimators": 100, "max_leaves": 31, "learning_rate": 0.1},
				// A slower, column-subsampled portfolio point.
				{"n_estimators": 300, "max_leaves": 31, "learning_rate": 0.05, "colsample": 0.8, "min_data_in_leaf": 10},
				// XGBoost's defaults (depth 6 ≈ 64 leaves, learning rate 0.3,
				// small leaves): strong on small, clean data.
				{"n_estimators": 100, "max_leaves": 64, "learning_rate": 0.3, "min_data_in_leaf": 2},
				// Few small leaves, slow learning, strong L2 and row/column
				// subsampling: a portfolio point for small, noisy data,
				// where the deep defaults overfit.
				{"n_estimators": 400, "max_leaves": 8, "learning_rate": 0.03, "min_data_in_leaf": 10, "l2": 10, "colsample": 0.7, "subsample": 0.8},
			},
		},
		{
			Learner: "random_forest", Family: "trees", CostFactor: 2,
			Domains: []Domain{
				{Param: "n_estimators", Lo: 4, Hi: 1024, Log: true, Int: true, Init: 4, CostExp: 1},
				{Param: "max_features", Lo: 0.1, Hi: 1, Log: true, Init: 1},
				// A tree stops deepening once its leaves are pure, so
				// cost grows well below linearly in the depth limit.
				{Param: "max_depth", Lo: 2, Hi: 64, Log: true, Int: true, Init: 2, CostExp: 0.5},
				{Param: "min_samples_leaf", Lo: 1, Hi: 64, Log: true, Int: true, Init: 1},
			},
			// scikit-learn's defaults (unlimited depth, sqrt features for
			// classification), with 100 trees.
			Defaults: []map[string]float64{{"n_estimators": 100, "max_depth": 64, "max_features": SqrtFeatures}},
		},
		{
			Learner: "extra_trees", Family: "trees", CostFactor: 1.9,
			Domains: []Domain{
				{Param: "n_estimators", Lo: 4, Hi: 1024, Log: true, Int: true, Init: 4, CostExp: 1},
				{Param: "max_features", Lo: 0.1, Hi: 1, Log: true, Init: 1},
				// A tree stops deepening once its leaves are pure, so
				// cost grows well below linearly in the depth limit.
				{Param: "max_depth", Lo: 2, Hi: 64, Log: true, Int: true, Init: 2, CostExp: 0.5},
				{Param: "min_samples_leaf", Lo: 1, Hi: 64, Log: true, Int: true, Init: 1},
			},
			// scikit-learn's defaults (unlimited depth, sqrt features for
			// classification), with 100 trees.
			Defaults: []map[string]float64{{"n_estimators": 100, "max_depth": 64, "max_features": SqrtFeatures}},
		},
		{
			Learner: "logistic_regression", Family: "linear", CostFactor: 5,
			Tasks: []string{"binary", "multiclass"},
			Domains: []Domain{
				{Param: "c", Lo: 1.0 / 32, Hi: 32768, Log: true, Init: 1},
			},
		},
		{
			// L2-regularised least squares (closed form): the regularised
			// linear member of the regression portfolio.
			Learner: "ridge", Family: "linear", CostFactor: 0.5,
			Tasks: []string{"regression"},
			Domains: []Domain{
				{Param: "alpha", Lo: 1.0 / 1024, Hi: 1024, Log: true, Init: 1},
			},
		},
		{
			// k nearest neighbours on standardised features (its default):
			// strong where the signal is local and the rows few. Searched
			// on small data only (see KNNMaxRows).
			Learner: "knn", Family: "distance", CostFactor: 3,
			Domains: []Domain{
				{Param: "k", Lo: 1, Hi: 64, Log: true, Int: true, Init: 5},
				{Param: "weights", Choices: []string{"uniform", "distance"}, InitChoice: "distance"},
			},
			Defaults: []map[string]float64{{"k": 15}},
		},
	}
	var out []Space
	names := learn.Names()
	for _, s := range all {
		if !slices.Contains(names, s.Learner) {
			continue
		}
		if s.Tasks != nil && !slices.Contains(s.Tasks, task.String()) {
			continue
		}
		spec, err := learn.Lookup(s.Learner)
		if err != nil || !slices.Contains(spec.Tasks, task) {
			continue
		}
		if task == learn.Regression && (s.Learner == "random_forest" || s.Learner == "extra_trees") {
			// scikit-learn's regression forests try every feature.
			s.Defaults = []map[string]float64{{"n_estimators": 100, "max_depth": 64, "max_features": 1}}
		}
		out = append(out, s)
	}
	return out
}

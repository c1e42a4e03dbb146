// Package forest implements the random forest ("random_forest") and
// extremely randomised trees ("extra_trees") learners for classification and
// regression, and a model-agnostic permutation importance.
//
// Both grow their trees with package tree on data coded once per fit
// (tree.Prepare) and shared read-only by all trees. Trees are grown in
// parallel on all cores (or n_jobs goroutines); tree i draws its bootstrap
// sample, feature subsets and thresholds from a generator seeded by (Seed, i),
// so a fit is deterministic whatever the number of workers. A bootstrap sample
// is represented as per-row multiplicities (weights), as in scikit-learn, so a
// tree only visits the distinct rows it drew. Fitting stops between trees and
// within a tree when its context is cancelled.
//
// Extra trees draw, per node and candidate feature, one threshold uniformly
// between the feature's smallest and largest value in the node (a random
// prefix of a random order of the present categories for a categorical
// feature, and a random side for missing values) and keep the best of those
// candidates, as scikit-learn's ExtraTrees.
//
// class_weight "balanced" reweights classes by n / (k · count) over the whole
// training set; "balanced_subsample" recomputes it on each bootstrap sample.
// max_features defaults to sqrt(p) for classification and all features for
// regression, as scikit-learn.
//
// Prediction averages the leaf outputs of all trees (class distributions for
// classifiers, means for regressors) in parallel over blocks of rows. The
// out-of-bag score (accuracy for classifiers, R² for regressors) is computed
// after fitting when oob_score is set and reported on the model. Impurity
// importance is the per-tree normalised total impurity decrease per feature,
// averaged over trees and normalised.
package forest

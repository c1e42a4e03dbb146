// Package tree implements CART decision trees ("decision_tree") and the tree
// machinery shared by the forest learners: data preparation, split finding,
// growing, cost-complexity pruning, flat trees for prediction and their binary
// encoding.
//
// # Data preparation
//
// Prepare codes every feature once as small integers: a numeric feature by
// the rank of its value among the feature's sorted distinct values (so a code
// threshold is an exact value threshold, the midpoint between two adjacent
// distinct values as in scikit-learn), a categorical feature
// (learn.Feature.Categorical) by its category code. Missing values (NaN, or a
// negative category code) get their own code. The prepared Data is read-only
// and shared by all trees of a forest. With max_bins (PrepareBinned) numeric
// features with more distinct values are grouped into quantile bins instead:
// faster on large data, at the cost of thresholds only between bins.
//
// # Split finding
//
// At each node and candidate feature the node's rows are summarised per code:
// by a histogram over all codes when the feature has few distinct values
// relative to the node size, otherwise by sorting the node's codes. The
// summary is then scanned once for the best threshold. Splitting is exact:
// every boundary between two distinct values present in the node is
// considered.
//
// Missing values are handled natively as in scikit-learn ≥ 1.3: when a node
// has rows with a missing value for the feature, both directions are tried
// for them and the better one is learned; otherwise missing values at
// prediction time go to the child that received more training weight.
//
// Categorical features split natively into a set of categories going left.
// For binary classification and regression the categories present in the
// node are ordered by their share of class 1 (mean target) and the best prefix
// of that order is taken, which is the optimal partition (Fisher 1958,
// Breiman et al. 1984). For multiclass targets the categories are ordered by
// their share of the node's majority class (a one-vs-rest heuristic).
// Categories not seen in a node during training go right at prediction.
//
// # Models
//
// A Tree is stored as flat arrays: nodes (feature, threshold or category set,
// children, missing direction) and leaf outputs (class distribution or mean).
// Ensemble averages trees and is what decision tree and forest models
// predict with, in parallel over blocks of rows.
package tree

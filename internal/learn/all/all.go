// Package all registers every built-in learner: import it for its side
// effects where learners are looked up by name.
package all

import (
	_ "github.com/gyre-ml/gyre/internal/learn/bayes"  // naive_bayes
	_ "github.com/gyre-ml/gyre/internal/learn/forest" // random_forest, extra_trees
	_ "github.com/gyre-ml/gyre/internal/learn/gbdt"   // gbdt
	_ "github.com/gyre-ml/gyre/internal/learn/kmeans" // kmeans
	_ "github.com/gyre-ml/gyre/internal/learn/knn"    // knn
	_ "github.com/gyre-ml/gyre/internal/learn/linear" // linear_regression, ridge, lasso, elastic_net, logistic_regression, linear_svm
	_ "github.com/gyre-ml/gyre/internal/learn/mlp"    // mlp
	_ "github.com/gyre-ml/gyre/internal/learn/svm"    // rbf_svm
	_ "github.com/gyre-ml/gyre/internal/learn/tree"   // decision_tree
)

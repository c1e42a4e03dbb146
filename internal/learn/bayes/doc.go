// Package bayes provides the "naive_bayes" learner: one naive Bayes model
// that is Gaussian on numeric features and categorical (with Laplace/additive
// smoothing) on categorical-coded features, for binary and multiclass
// classification.
//
// Numeric features follow scikit-learn's GaussianNB: per-class weighted
// means and variances, with var_smoothing × the largest feature variance
// added to every variance. Categorical features follow CategoricalNB:
// P(level | class) = (count + alpha) / (class count + alpha·levels). Class
// priors are the weighted class frequencies. A missing value (NaN) or an
// unseen category code is skipped, in training and in prediction, which
// marginalises the feature out: the model never returns NaN.
package bayes

// Package linear provides Gyre's linear learners: linear_regression
// (least squares), ridge, lasso and elastic_net (coordinate descent with
// covariance updates), logistic_regression (binary and multinomial; L2 by
// gonum's L-BFGS, L1 and elastic-net by proximal Newton: IRLS with penalised
// coordinate descent; balanced class weights) and linear_svm (hinge loss,
// dual coordinate descent, one-vs-rest, Platt-calibrated probabilities).
//
// Objectives follow scikit-learn's (see each learner's doc comment), so the
// same hyperparameters mean the same thing. Every learner encodes its input
// itself (package dense, shared with knn, mlp and kmeans), as a fallback for data that did not pass through the feature
// pipeline: NaN is replaced by the training mean, categorical codes are
// one-hot encoded (unknown codes and NaN as all zeros), and numeric columns
// are standardised when Standardize is set (the default for penalised
// models, whose penalty then applies to standardised coefficients). The
// fitted encoder is stored in the model, so prediction encodes exactly as
// training did and never produces NaN.
//
// Fitted models are *Model (regression) or *Classifier (adds PredictProba);
// their coefficients are exported for inspection, and they serialise as
// JSON. The learners register themselves with package learn by name.
package linear

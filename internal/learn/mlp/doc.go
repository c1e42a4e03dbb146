// Package mlp implements the multilayer perceptron ("mlp"): fully connected
// ReLU hidden layers trained with Adam on shuffled mini-batches, L2
// regularisation, and a sigmoid (binary), softmax (multiclass) or linear
// (regression) output with the matching log or squared loss, as
// scikit-learn's MLPClassifier/MLPRegressor.
//
// Inputs are encoded inside the model, so a saved model predicts from the
// raw design matrix: categorical features one-hot, missing values replaced by
// the training mean, numeric features standardised; regression targets are
// standardised too and mapped back at prediction. Weights start from Glorot
// uniform initialisation drawn from the seed. With early_stopping a
// validation_fraction of the rows is held out and training stops when its
// score (accuracy or R²) has not improved by tol for n_iter_no_change epochs,
// keeping the best weights; otherwise the training loss is watched the same
// way. Fit checks its context after every epoch and every 64 batches.
//
// Training runs on one goroutine (deterministic under a seed); prediction is
// parallel over blocks of rows. The matrix products are plain float64 loops
// in cache-friendly order over row-major batches.
package mlp

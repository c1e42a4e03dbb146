// Package knn provides the "knn" learner: exact k-nearest-neighbour
// classification (probabilities are the neighbours' weighted class shares)
// and regression (the neighbours' weighted mean).
//
// The learner encodes its input itself (package dense): NaN becomes the training mean,
// categorical codes are one-hot encoded, and numeric columns are
// standardised when Standardize is set (the default), so that no feature
// dominates the distance by its units. The fitted model keeps the encoded
// training points. Queries run in parallel over rows; when the encoded
// dimension is at most 15 (index "auto") a k-d tree answers them, otherwise
// a brute-force scan. Both give identical answers: ties in distance are
// broken by training-row order.
package knn

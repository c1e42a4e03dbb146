// Package kmeans implements k-means clustering ("kmeans", task Clustering):
// k-means++ seeding with greedy local trials (Arthur & Vassilvitskii 2007, as
// in scikit-learn), Lloyd iterations with the assignment step parallel over
// fixed blocks of rows (so results do not depend on the number of cores),
// n_init restarts keeping the lowest inertia, and empty clusters re-seeded
// with the point farthest from its centre.
//
// Inputs are encoded inside the model: categorical features one-hot, missing
// values replaced by the training mean, and (by default) numeric features
// standardised, so that clusters are not dominated by the feature with the
// largest unit. Predict returns the index of the nearest centre. The model
// reports its inertia (weighted sum of squared distances to the centres, in
// the encoded space) and the silhouette score of a sample of the training
// rows (metric.Silhouette).
package kmeans

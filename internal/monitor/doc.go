// Package monitor watches a model in production: it keeps the prediction log
// (sampled inputs and outputs from the server, and ground-truth feedback
// joined to them by request id and row), and compares what the model sees
// now with what it was trained on.
//
// Analyze takes a bundle, its reference profile (the training profile stored
// in the bundle, see ReferenceProfile) and the current rows, and reports:
//
//   - data drift per feature and for the data set, with the statistics and
//     thresholds of package validate (Evidently's defaults);
//   - prediction drift: the predicted values or classes against the
//     training target's distribution;
//   - data quality: missing shares, categories never seen in training and
//     numbers outside the training range;
//   - performance per time window when feedback labels exist, with the
//     metrics of package metric;
//   - for classifiers, a label-free estimate of accuracy and ROC AUC from
//     the predicted probabilities (confidence-based performance estimation,
//     CBPE, as NannyML), overall and per window;
//   - alerts when the data set drifts, when predictions drift, when
//     performance (measured or estimated) decays beyond a tolerance of the
//     model's own validation score, or when a goal is missed.
//
// A Report renders as text, JSON, HTML (package report) and Prometheus
// gauges; Notify posts it to a webhook with retries.
//
// The Log stores predictions and feedback in the metadata database (package
// sqlstore, tables prediction_chunks and feedback_chunks): each logged batch
// is one row holding a columnar encoding (colbatch.go) made when it is
// logged — a float64 array with a presence bitmap per numeric member, a
// dictionary of values with per-row codes otherwise, outputs and nested
// objects (the class probabilities) flattened to columns. Log.Current reads
// a model's window straight into a Current typed by the bundle's input
// schema: batches decode on all cores while the store is read, rows are
// ordered by time, de-duplicated and joined with their latest label by a
// 128-bit hash of (request id, row), and the columns are assembled one per
// core by copying number arrays and mapping dictionaries once per batch.
// Text batches of older stores (tables prediction_batches and
// feedback_batches) are parsed into the same form and read alongside.
// Log.Predictions rebuilds the rows' JSON, and Records converts JSON rows
// into a Current with the same conversions as Log.Current.
package monitor

// Package track records experiments and runs: what was trained, with which
// parameters, on which data set versions, by which command and Gyre version
// at which git commit, and how it scored.
//
// A [Tracker] writes into a metadata store ([sqlstore.DB]) and an artifact
// store ([blob.Store]). [Tracker.Start] begins a [Run] in an experiment
// (created on first use); the run then logs parameters (write-once: logging
// a parameter again with a different value is an error, as in MLflow),
// metrics as step series with timestamps ([Run.LogMetrics] inserts a batch in
// one transaction), tags, artifacts (stored as blobs, referenced by digest)
// and the data set versions it used, and ends with a [Status]. AutoML logs a
// parent run and a child run per trial through [Run.ParentID].
//
// Besides the full history, the store keeps each metric's latest value (the
// one at the highest step) in an indexed table, which is what
// [Tracker.Search] filters and orders by. Filters use a small language
// ([ParseFilter]):
//
//	metrics.roc_auc > 0.9 and params.learner = 'gbdt' and tags.team != 'x' and status = 'FINISHED'
//
// which is compiled into parameterised SQL: values are always bound, never
// spliced into the query text. Results are paginated on the server with an
// opaque page token.
//
// Every method takes a context and is safe for concurrent use; many
// processes may log into one store at once (see package sqlstore).
package track

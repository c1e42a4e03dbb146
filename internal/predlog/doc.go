// Package predlog is the prediction log: the predictions gyre serve samples,
// in typed batches, and the ground-truth feedback joined to them, kept in the
// metadata store (package sqlstore) and the artifact store (package blob).
//
// A Batch is one model version's logged rows in columns: the input frame the
// model saw, its Prediction, and per row the request id, the row's index in
// its request and the time. gyre serve's logger accumulates sampled requests
// in a Builder and hands each Batch to Log.LogPredictions as is, which
// writes it as one Parquet file (package ingest/parquetio) to the artifact
// store and then an index row (model, version, time range, row count, size,
// digest) to table prediction_log. A file is a flat table any Parquet tool
// reads (pandas, DuckDB, Spark):
//
//	__time         TIMESTAMP(NANOS)  when the row was predicted
//	__model        string            the served model name
//	__version      string            the model version
//	__request_id   string            the request's id (feedback names it)
//	__row          int64             the row's index in its request
//	__latency_ns   int64             how long the request took to answer,
//	                                 arrival to prediction (missing where
//	                                 unknown; absent from files written
//	                                 before latencies were logged, read as
//	                                 unknown)
//	<input>...     typed             the model's inputs, by name ("__x" is
//	                                 stored as "__input___x")
//	__prediction   double | string   the predicted value, or class name
//	__proba_<c>    double            class c's probability (classifiers)
//
// Feedback labels are stored the same way: each LogFeedback call writes
// one Parquet file per model (__time, __model, __request_id, __row,
// __label) and an index row to table feedback_log. A row's label is the
// one given last (by time; among equal times the one stored last).
// Log.Compact (gyre gc, and the Log itself every CompactAfter files of a
// model) merges runs of small feedback files, keeping that order.
//
// Log.Read selects the index rows whose time range meets the query, reads
// their files on all cores, keeps the rows in the window in time order, a
// row logged twice (a retried write, a replayed write-ahead file) once, and
// joins each with its label from the feedback files; the inputs come back
// typed by the reader's schema, converted where a batch logged another kind
// (a model version with another schema, or an old log).
//
// A WAL (durable mode) is a local write-ahead directory the server's logger
// adds each sampled request to and fsyncs before the request is answered;
// a segment is removed once its batches are stored, and the segments a
// killed process left are stored at the next start (WAL.Replay), a torn
// tail dropped and counted. See wal.go for the file format.
//
// Upgrade converts the logs of older versions (migrations 0003 and 0004:
// text lines and a private columnar encoding in SQL; 0005's feedback
// table) into this form the first time a Log is used.
package predlog

// Package serve is Gyre's prediction server: it serves one or more model
// bundles over HTTP in three protocols at once —
//
//   - Gyre's own: POST /v1/models/{name}/predict with {"records": [...]},
//     answering predictions, class probabilities, the model version and a
//     request id; POST /v1/models/{name}/feedback takes ground truth by
//     request id; POST /v1/models/{name}/reload re-resolves the reference.
//   - MLflow's scoring protocol: POST /invocations with dataframe_split,
//     dataframe_records, instances, inputs or text/csv bodies, GET /ping,
//     /health and /version, and MLflow's error shape.
//   - The Open Inference Protocol v2 (KServe): /v2/health/live|ready, /v2,
//     /v2/models/{name}[/versions/{v}][/ready|/infer], with the "pd"
//     one-input-per-column tabular convention.
//
// plus GET /metrics (Prometheus text format) and GET /openapi.json.
//
// Every request is decoded against the bundle's input schema: a missing
// column, a wrong type or an unparseable value is a 400 naming the field and
// row. A value outside the training range or a category never seen in
// training is served and counted, not rejected. Bodies are size-limited and
// slow clients time out.
//
// Models served by registry reference (NAME@ALIAS) are re-resolved
// periodically through the Resolver the server is given; a new version is
// loaded in the background and swapped in atomically, so in-flight requests
// finish on the model they started with and none fail. Prediction logging,
// when enabled, goes through a bounded queue to the PredictionLog the server
// is given: a full queue drops log records (and counts them), never
// requests. In durable mode (Options.Durable) a request is answered only
// once its record is written ahead and fsynced (durable.go).
//
// The hot path is built for single-row requests. A body holding one row
// (MLflow dataframe_split or dataframe_records, Gyre records, V2 one input
// per column) is scanned once straight into a pooled bundle.Row and
// predicted by the bundle's compiled bundle.RowPredictor (rowpath.go): no
// frame, no maps, no allocation while decoding. It never decides an error:
// whatever it does not accept exactly goes to the general path, and
// FuzzRowPath holds the two to byte-identical answers. Logged predictions
// are queued as raw values and turned into records on the logger goroutine;
// sampling is decided before any logging work. While serving small models
// the GC target gives the heap 128 MiB of headroom (gcPercentFor), so
// collections — and their mark phases in the latency tail — are rare.
//
// On the general path, bodies are read into pooled buffers; a one-pass decoder (fastjson.go) turns well-formed requests into
// the values encoding/json would give, falling back to encoding/json — and
// its exact error messages — for anything unusual; columns are built with a
// few shared allocations; responses are appended to pooled buffers as the
// bytes encoding/json would write; metrics are looked up by struct keys with
// one atomic add per histogram observation. FuzzFastJSON and
// TestResponsesMatchEncodingJSON hold the fast paths to the slow ones, and
// BenchmarkPredictSingleRow measures the whole handler per protocol.
package serve

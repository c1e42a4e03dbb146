// Package mlflowapi serves MLflow's REST API over Gyre's own stores, so
// that MLflow clients (MLFLOW_TRACKING_URI pointed at Gyre) log runs and
// register models into the same rows Gyre's CLI reads and writes.
//
// [New] returns an [API], an http.Handler for the tracking service
// (/api/2.0/mlflow/experiments/..., runs/..., metrics/..., artifacts/list),
// the model registry (registered-models/..., model-versions/...) and the
// artifact proxy (/api/2.0/mlflow-artifacts/artifacts/...), the same
// under /ajax-api/2.0/. Requests and responses follow MLflow's
// service.proto and model_registry.proto in their JSON form: snake_case
// fields, int64 values as JSON numbers (numeric strings are accepted),
// NaN and infinities as the strings "NaN", "Infinity" and "-Infinity",
// errors as {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}
// with MLflow's HTTP status for the code.
//
// Identifiers: experiment ids are Gyre's (32 hex digits; clients treat
// them as opaque strings), except the Default experiment, whose id is "0"
// as every MLflow client expects. Run ids are Gyre's run ids. Model
// version numbers are Gyre's, sent as strings as MLflow does.
//
// Artifacts: a run's artifact_uri is mlflow-artifacts:/EXP/RUN/artifacts,
// which clients resolve to the proxy; an upload there stores the bytes in
// Gyre's blob store as an artifact of the run (the one `gyre runs show`
// lists), and downloads and listings read the same artifacts. Paths that
// climb out of a run (.., absolute, encoded separators) are refused.
//
// Permissions: every route is in [Routes] with the role it needs and the
// kind of resource it acts on; each handler calls access.Require on the
// experiment (resolved from the run or artifact path), the registered
// model, or the server (creating an experiment or a registered model),
// after the caller's best role anywhere has been checked so that a caller
// without credentials gets 401 and one without the role 403 whatever the
// body. Searches return only what the caller may view. Writes carry the
// request's audit actor in their context, so each is recorded in the
// audit trail by the store package that makes it.
//
// Layer 4: it imports track, registry, dataset, blob, access and audit;
// the team server (internal/web) mounts it.
package mlflowapi

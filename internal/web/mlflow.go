package web

import (
	"github.com/gyre-ml/gyre/internal/mlflowapi"
)

// MLflow returns the MLflow REST API as a mount: every route of its table
// (under /api/2.0/ and /ajax-api/2.0/) is registered on the server's
// router behind the same middleware and authentication, with the role the
// table gives it, and refusals are written in MLflow's envelope
// ({"error_code": "UNAUTHENTICATED" | "PERMISSION_DENIED", "message"}) by
// [mlflowapi.WriteRefusal].
func MLflow(api *mlflowapi.API) Mount {
	var routes []Route
	for _, r := range api.Routes() {
		routes = append(routes, Route{Method: r.Method, Pattern: r.Path, Role: r.Need,
			Summary: "MLflow REST API: " + r.Method + " " + r.Path + " (needs " + r.Need.String() + " on the " + string(r.Scope) + ")"})
	}
	return Mount{Name: "mlflow", Routes: routes, Handler: api, WriteError: mlflowapi.WriteRefusal}
}

package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/mlflowapi"
)

// MLflow returns the MLflow REST API as a mount: every route of its table
// (under /api/2.0/ and /ajax-api/2.0/) is registered on the server's
// router behind the same middleware and authentication, with the role the
// table gives it, and refusals are written in MLflow's envelope
// ({"error_code": "UNAUTHENTICATED" | "PERMISSION_DENIED", "message"}).
func MLflow(api *mlflowapi.API) Mount {
	var routes []Route
	for _, r := range api.Routes() {
		routes = append(routes, Route{Method: r.Method, Pattern: r.Path, Role: r.Need,
			Summary: "MLflow REST API: " + r.Method + " " + r.Path + " (needs " + r.Need.String() + " on the " + string(r.Scope) + ")"})
	}
	return Mount{Name: "mlflow", Routes: routes, Handler: api, WriteError: writeMLflowError}
}

func writeMLflowError(w http.ResponseWriter, r *http.Request, err error) {
	code, status := "PERMISSION_DENIED", http.StatusForbidden
	if errors.Is(err, access.ErrUnauthenticated) {
		code, status = "UNAUTHENTICATED", http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="gyre", Basic realm="gyre"`)
	}
	b, _ := json.Marshal(map[string]string{"error_code": code, "message": err.Error()})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

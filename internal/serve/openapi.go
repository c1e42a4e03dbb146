package serve

import (
	"net/http"
)

// handleOpenAPI serves an OpenAPI 3.1 description of the endpoints, with
// each model's input columns as the request schema.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	props := map[string]any{}
	for _, name := range s.names {
		for _, f := range s.models[name].cur.Load().b.Manifest.Input.Fields {
			var t any
			switch v2Type(f.Kind) {
			case "FP64":
				t = []string{"number", "null"}
			case "INT64":
				t = []string{"integer", "null"}
			case "BOOL":
				t = []string{"boolean", "null"}
			default:
				t = []string{"string", "null"}
			}
			props[f.Name] = map[string]any{"type": t}
		}
	}
	record := map[string]any{"type": "object", "properties": props}
	errorBody := map[string]any{"description": "bad request: the message names the field and row", "content": map[string]any{"application/json": map[string]any{}}}
	jsonBody := func(schema any) map[string]any {
		return map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
	}
	ok := func(desc string) map[string]any {
		return map[string]any{"200": map[string]any{"description": desc}, "400": errorBody}
	}
	nameParam := []any{map[string]any{"name": "name", "in": "path", "required": true, "schema": map[string]any{"type": "string", "enum": s.names}}}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Gyre prediction server", "version": s.opt.Version},
		"paths": map[string]any{
			"/v1/models/{name}/predict": map[string]any{"post": map[string]any{
				"summary": "Predict: records in; predictions, class probabilities, model version and request id out", "parameters": nameParam,
				"requestBody": jsonBody(map[string]any{"type": "object", "properties": map[string]any{"records": map[string]any{"type": "array", "items": record}}}),
				"responses":   ok("predictions")}},
			"/v1/models/{name}/feedback": map[string]any{"post": map[string]any{"summary": "Ground-truth labels by request id", "parameters": nameParam,
				"requestBody": jsonBody(map[string]any{"type": "object"}), "responses": ok("accepted")}},
			"/v1/models/{name}/reload": map[string]any{"post": map[string]any{"summary": "Re-resolve the model reference now", "parameters": nameParam, "responses": ok("reloaded")}},
			"/invocations": map[string]any{"post": map[string]any{"summary": "MLflow scoring protocol (dataframe_split, dataframe_records, instances, inputs, text/csv)",
				"requestBody": jsonBody(map[string]any{"type": "object"}), "responses": ok(`{"predictions": [...]}`)}},
			"/ping":                   map[string]any{"get": map[string]any{"summary": "Liveness (MLflow)", "responses": ok("alive")}},
			"/health":                 map[string]any{"get": map[string]any{"summary": "Health (MLflow)", "responses": ok("healthy")}},
			"/version":                map[string]any{"get": map[string]any{"summary": "Server version", "responses": ok("version")}},
			"/v2/health/live":         map[string]any{"get": map[string]any{"summary": "Open Inference Protocol liveness", "responses": ok("live")}},
			"/v2/health/ready":        map[string]any{"get": map[string]any{"summary": "Open Inference Protocol readiness", "responses": ok("ready")}},
			"/v2/models/{name}":       map[string]any{"get": map[string]any{"summary": "Model metadata", "parameters": nameParam, "responses": ok("metadata")}},
			"/v2/models/{name}/ready": map[string]any{"get": map[string]any{"summary": "Model readiness", "parameters": nameParam, "responses": ok("ready")}},
			"/v2/models/{name}/infer": map[string]any{"post": map[string]any{"summary": "Open Inference Protocol inference (content_type pd: one input per column)", "parameters": nameParam, "requestBody": jsonBody(map[string]any{"type": "object"}), "responses": ok("outputs")}},
			"/metrics":                map[string]any{"get": map[string]any{"summary": "Prometheus metrics", "responses": ok("metrics")}},
		},
	}
	writeJSON(w, doc)
}

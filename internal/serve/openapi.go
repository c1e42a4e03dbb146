package serve

import (
	"net/http"
	"regexp"
	"strings"
)

// pathParam matches a {wildcard} of a route.
var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

// handleOpenAPI serves an OpenAPI 3.1 description of every route of the
// route table (the one the router is built from), with each model's input
// columns as the record schema.
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
	paths := map[string]any{}
	for _, rt := range s.routeTable() {
		op := map[string]any{"summary": rt.summary,
			"responses": map[string]any{"200": map[string]any{"description": "ok"}, "400": errorBody}}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			schema := map[string]any{"type": "string"}
			if m[1] == "name" {
				schema["enum"] = s.names
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch b := rt.body.(type) {
		case nil:
		case string: // "records": Gyre's predict body
			op["requestBody"] = jsonBody(map[string]any{"type": "object", "properties": map[string]any{"records": map[string]any{"type": "array", "items": record}}})
		default:
			op["requestBody"] = jsonBody(b)
		}
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = op
	}
	writeJSON(w, map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Gyre prediction server", "version": s.opt.Version},
		"paths":   paths,
	})
}

func jsonBody(schema any) map[string]any {
	return map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
}

package web

import (
	"encoding"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
)

// OpenAPI builds the server's OpenAPI 3.1 document from the route table,
// so that it lists every route the server answers. Request and response
// schemas are derived from the Go types the handlers decode and encode.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		if rt.Page {
			continue
		}
		path := strings.ReplaceAll(rt.Pattern, "...}", "}")
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": operationID(rt),
			"x-gyre-role": rt.Role.String(),
			"responses":   map[string]any{},
		}
		if rt.Self {
			op["x-gyre-self"] = true
		}
		if rt.Mount != "" {
			op["tags"] = []string{rt.Mount}
		} else {
			op["tags"] = []string{tagOf(rt.Pattern)}
		}
		if rt.Role == access.None && !rt.Self {
			op["security"] = []any{}
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Doc, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		switch {
		case rt.Body != nil:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Body))}}}
		case rt.RawBody != "":
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{rt.RawBody: map[string]any{}}}
		}
		resp := op["responses"].(map[string]any)
		okCode := "200"
		if rt.Method == http.MethodPost && rt.Response != nil && rt.Role >= access.Editor {
			okCode = "201"
		}
		switch {
		case rt.Response != nil:
			resp[okCode] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Response))}}}
		case rt.RawResponse != "":
			resp[okCode] = map[string]any{"description": "OK", "content": map[string]any{rt.RawResponse: map[string]any{}}}
		default:
			resp[okCode] = map[string]any{"description": "OK"}
		}
		if rt.Mount == "" {
			errRef := map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Envelope"}}}}
			for code, d := range map[string]string{"400": "Invalid request (the error names the field)", "401": "No valid credentials", "403": "The caller's role does not allow it", "404": "Not found"} {
				if (code == "401" || code == "403") && rt.Role == access.None && !rt.Self {
					continue
				}
				e := map[string]any{"description": d}
				for k, v := range errRef {
					e[k] = v
				}
				resp[code] = e
			}
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(rt.Method)] = op
	}
	g.schema(reflect.TypeOf(Envelope{}))
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Gyre team server",
			"version":     s.o.Version,
			"description": "Gyre's JSON API (/api/v1) and the MLflow REST API (/api/2.0, /ajax-api/2.0). Errors of /api/v1 use one envelope: {\"error\": {\"kind\", \"message\", \"field\"}}. Lists page with max_results and page_token and return next_page_token.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.defs,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "A Gyre API token (gyre tokens create, or MLFLOW_TRACKING_TOKEN)."},
				"basic":  map[string]any{"type": "http", "scheme": "basic", "description": "User name and password, or user name and one of the account's tokens."},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"basic": []any{}}},
	}
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.OpenAPI())
}

var pathParam = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?:\.\.\.)?\}`)

func tagOf(pattern string) string {
	p := strings.TrimPrefix(pattern, "/api/v1/")
	if p == pattern {
		return "system"
	}
	t, _, _ := strings.Cut(p, "/")
	return t
}

func operationID(rt Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, seg := range strings.Split(rt.Pattern, "/") {
		seg = strings.Trim(seg, "{}.")
		if seg == "" || seg == "api" || seg == "v1" {
			continue
		}
		b.WriteByte('_')
		b.WriteString(strings.NewReplacer("-", "_", ".", "_").Replace(seg))
	}
	return b.String()
}

// schemaGen derives JSON Schemas from Go types: structs by their json tags,
// named structs as shared components.
type schemaGen struct {
	defs map[string]any
}

var (
	timeType          = reflect.TypeOf(time.Time{})
	textMarshalerType = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType):
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := t.Name()
		if name != "" {
			if pkg := t.PkgPath(); pkg != "" && !strings.HasSuffix(pkg, "/web") {
				name = pkg[strings.LastIndex(pkg, "/")+1:] + "." + name
			}
			name = strings.ReplaceAll(name, ".", "_")
			if _, ok := g.defs[name]; ok {
				return map[string]any{"$ref": "#/components/schemas/" + name}
			}
			g.defs[name] = map[string]any{} // placeholder for recursion
		}
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			fname, _, _ := strings.Cut(tag, ",")
			if fname == "" {
				fname = f.Name
			}
			if f.Anonymous && f.Type.Kind() == reflect.Struct && tag == "" {
				if sub, ok := g.inline(f.Type)["properties"].(map[string]any); ok {
					for k, v := range sub {
						props[k] = v
					}
				}
				continue
			}
			props[fname] = g.schema(f.Type)
		}
		s := map[string]any{"type": "object", "properties": props}
		if name == "" {
			return s
		}
		g.defs[name] = s
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (g *schemaGen) inline(t reflect.Type) map[string]any {
	ref := g.schema(t)
	if r, ok := ref["$ref"].(string); ok {
		if d, ok := g.defs[strings.TrimPrefix(r, "#/components/schemas/")].(map[string]any); ok {
			return d
		}
	}
	return ref
}

package feature

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gyre-ml/gyre/internal/frame"
)

// RecipeError is a problem in a recipe file, located by line.
type RecipeError struct {
	// File is the recipe's path or name.
	File string
	// Line is the 1-based line of the offending node (0 when unknown).
	Line int
	// Field names the offending key or step, when there is one.
	Field string
	// Err is what is wrong.
	Err error
}

// Error implements error.
func (e *RecipeError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("recipe %s: %s: %v", loc, e.Field, e.Err)
	}
	return fmt.Sprintf("recipe %s: %v", loc, e.Err)
}

// Unwrap returns the underlying error.
func (e *RecipeError) Unwrap() error { return e.Err }

// LoadRecipe reads a recipe file. See ParseRecipe for the format.
func LoadRecipe(path string) (Pipeline, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Pipeline{}, fmt.Errorf("load recipe: %w", err)
	}
	return ParseRecipe(b, path)
}

// ParseRecipe parses a YAML recipe (documented in docs/recipes.md):
//
//	target: Survived          # optional: the target column
//	roles:                    # optional: column roles (id, ignore, time, feature)
//	  PassengerId: id
//	steps:                    # the steps, in order
//	  - step: impute          # the step type (see StepTypes)
//	    strategy: median      # the step's parameters
//	    indicators: true
//
// An unknown top-level key, step type or parameter, or a value of the wrong
// type, is a *RecipeError naming the file, line and field.
func ParseRecipe(data []byte, name string) (Pipeline, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Pipeline{}, &RecipeError{File: name, Err: err}
	}
	var p Pipeline
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return p, &RecipeError{File: name, Err: fmt.Errorf("empty recipe; want a mapping with steps")}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return p, &RecipeError{File: name, Line: root.Line, Err: fmt.Errorf("want a mapping with target, roles and steps")}
	}
	for k := 0; k+1 < len(root.Content); k += 2 {
		key, val := root.Content[k], root.Content[k+1]
		switch key.Value {
		case "version":
			if val.Value != "1" {
				return p, &RecipeError{File: name, Line: val.Line, Field: "version", Err: fmt.Errorf("version %q, this gyre reads version 1", val.Value)}
			}
		case "target":
			if err := val.Decode(&p.Target); err != nil {
				return p, &RecipeError{File: name, Line: val.Line, Field: "target", Err: err}
			}
		case "roles":
			if val.Kind != yaml.MappingNode {
				return p, &RecipeError{File: name, Line: val.Line, Field: "roles", Err: fmt.Errorf("want a mapping of column: role")}
			}
			p.Roles = map[string]frame.Role{}
			for r := 0; r+1 < len(val.Content); r += 2 {
				role, err := frame.ParseRole(val.Content[r+1].Value)
				if err != nil {
					return p, &RecipeError{File: name, Line: val.Content[r+1].Line, Field: "roles." + val.Content[r].Value, Err: err}
				}
				p.Roles[val.Content[r].Value] = role
			}
		case "steps":
			if val.Kind != yaml.SequenceNode {
				return p, &RecipeError{File: name, Line: val.Line, Field: "steps", Err: fmt.Errorf("want a list of steps")}
			}
			for i, sn := range val.Content {
				s, err := parseStep(sn, name, i+1)
				if err != nil {
					return p, err
				}
				p.Steps = append(p.Steps, s)
			}
		default:
			return p, &RecipeError{File: name, Line: key.Line, Field: key.Value, Err: fmt.Errorf("unknown field (want version, target, roles or steps)")}
		}
	}
	return p, nil
}

func parseStep(n *yaml.Node, file string, idx int) (Step, error) {
	where := fmt.Sprintf("steps[%d]", idx)
	if n.Kind != yaml.MappingNode {
		return nil, &RecipeError{File: file, Line: n.Line, Field: where, Err: fmt.Errorf("want a mapping with a step key")}
	}
	var typ string
	typLine := n.Line
	params := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for k := 0; k+1 < len(n.Content); k += 2 {
		if n.Content[k].Value == "step" {
			typ, typLine = n.Content[k+1].Value, n.Content[k+1].Line
			continue
		}
		params.Content = append(params.Content, n.Content[k], n.Content[k+1])
	}
	if typ == "" {
		return nil, &RecipeError{File: file, Line: n.Line, Field: where, Err: fmt.Errorf("missing step: key naming the step type")}
	}
	reg, err := Lookup(typ)
	if err != nil {
		return nil, &RecipeError{File: file, Line: typLine, Field: where + ".step", Err: err}
	}
	s := reg.NewStep()
	known := yamlKeys(s)
	for k := 0; k+1 < len(params.Content); k += 2 {
		key := params.Content[k]
		if !known[key.Value] {
			return nil, &RecipeError{File: file, Line: key.Line, Field: fmt.Sprintf("%s (%s).%s", where, typ, key.Value),
				Err: fmt.Errorf("unknown parameter (want %s)", strings.Join(sortedKeys(known), ", "))}
		}
	}
	// Decode one parameter at a time so a type error names its key and line.
	for k := 0; k+1 < len(params.Content); k += 2 {
		key, val := params.Content[k], params.Content[k+1]
		one := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{key, val}}
		if err := one.Decode(s); err != nil {
			msg := err.Error()
			if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
				msg = te.Errors[0]
			}
			return nil, &RecipeError{File: file, Line: val.Line, Field: fmt.Sprintf("%s (%s).%s", where, typ, key.Value), Err: fmt.Errorf("%s", msg)}
		}
	}
	return s, nil
}

// yamlKeys returns the yaml keys a step struct accepts.
func yamlKeys(s Step) map[string]bool {
	t := reflect.TypeOf(s)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			out[tag] = true
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

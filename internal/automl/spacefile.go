package automl

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gyre-ml/gyre/internal/learn"
)

// SpaceFileError is an error in a search-space file, naming its line.
type SpaceFileError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *SpaceFileError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("search space %s:%d: %s: %v", e.File, e.Line, e.Field, e.Err)
	}
	return fmt.Sprintf("search space %s:%d: %v", e.File, e.Line, e.Err)
}

func (e *SpaceFileError) Unwrap() error { return e.Err }

// ParseSpaces reads a user search space (YAML):
//
//	learners:
//	  - learner: gbdt
//	    params:
//	      n_estimators: {low: 50, high: 1000, log: true, int: true}
//	      learning_rate: {low: 0.01, high: 0.3, log: true}
//	      max_leaves: {choices: [15, 31, 63]}
//	      colsample: {low: 0.5, high: 1, grid: 3}
//	    fixed:
//	      l2: 1
//
// Each parameter is a numeric range (low, high; log for a log scale, int
// for integers, init for the starting point (default low), grid for the
// number of grid points) or a list of choices. Learner and parameter names
// are checked against the registered learners. Family is left empty for the
// caller to fill in.
func ParseSpaces(data []byte, file string) ([]Space, error) {
	var doc struct {
		Learners []struct {
			Learner string               `yaml:"learner"`
			Params  map[string]yaml.Node `yaml:"params"`
			Fixed   map[string]string    `yaml:"fixed"`
		} `yaml:"learners"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, yamlError(file, err)
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	if len(doc.Learners) == 0 {
		return nil, &SpaceFileError{File: file, Line: 1, Err: errors.New("no learners: want a 'learners:' list")}
	}
	var out []Space
	for li, l := range doc.Learners {
		line := nodeLine(&root, "learners", li)
		if _, err := learn.Lookup(l.Learner); err != nil {
			return nil, &SpaceFileError{File: file, Line: line, Field: "learner", Err: err}
		}
		lr, _ := learn.New(l.Learner)
		var valid []string
		for _, p := range learn.Params(lr) {
			valid = append(valid, p.Name)
		}
		sp := Space{Learner: l.Learner, CostFactor: 1, Fixed: map[string]string{}}
		names := make([]string, 0, len(l.Params))
		for name := range l.Params {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			n := l.Params[name]
			if !slices.Contains(valid, name) {
				return nil, &SpaceFileError{File: file, Line: n.Line, Field: name, Err: fmt.Errorf("unknown hyperparameter of %s (valid: %s)", l.Learner, strings.Join(valid, ", "))}
			}
			d, err := parseDomain(name, &n)
			if err != nil {
				return nil, &SpaceFileError{File: file, Line: n.Line, Field: name, Err: err}
			}
			sp.Domains = append(sp.Domains, d)
		}
		for name, v := range l.Fixed {
			if !slices.Contains(valid, name) {
				return nil, &SpaceFileError{File: file, Line: line, Field: "fixed." + name, Err: fmt.Errorf("unknown hyperparameter of %s (valid: %s)", l.Learner, strings.Join(valid, ", "))}
			}
			if err := learn.SetParam(lr, name, v); err != nil {
				return nil, &SpaceFileError{File: file, Line: line, Field: "fixed." + name, Err: err}
			}
			sp.Fixed[name] = v
		}
		if len(sp.Domains) == 0 {
			return nil, &SpaceFileError{File: file, Line: line, Field: "params", Err: errors.New("no hyperparameters to search")}
		}
		out = append(out, sp)
	}
	return out, nil
}

func parseDomain(name string, n *yaml.Node) (Domain, error) {
	var raw struct {
		Low     *float64 `yaml:"low"`
		High    *float64 `yaml:"high"`
		Log     bool     `yaml:"log"`
		Int     bool     `yaml:"int"`
		Init    *float64 `yaml:"init"`
		Grid    int      `yaml:"grid"`
		Choices []string `yaml:"choices"`
	}
	if err := n.Decode(&raw); err != nil {
		return Domain{}, fmt.Errorf("want {low, high[, log, int, init, grid]} or {choices: [...]}: %w", err)
	}
	// Decode does not reject unknown keys on a node: check them here.
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "low", "high", "log", "int", "init", "grid", "choices":
		default:
			return Domain{}, fmt.Errorf("unknown key %q (want low, high, log, int, init, grid or choices)", k)
		}
	}
	d := Domain{Param: name, Log: raw.Log, Int: raw.Int, GridPoints: raw.Grid}
	if len(raw.Choices) > 0 {
		if raw.Low != nil || raw.High != nil {
			return Domain{}, errors.New("give either choices or low/high, not both")
		}
		d.Choices, d.InitChoice = raw.Choices, raw.Choices[0]
		return d, nil
	}
	if raw.Low == nil || raw.High == nil {
		return Domain{}, errors.New("a range needs low and high")
	}
	d.Lo, d.Hi, d.Init = *raw.Low, *raw.High, *raw.Low
	if raw.Init != nil {
		d.Init = *raw.Init
	}
	switch {
	case !(d.Lo < d.Hi):
		return Domain{}, fmt.Errorf("low %g must be below high %g", d.Lo, d.Hi)
	case d.Log && d.Lo <= 0:
		return Domain{}, fmt.Errorf("a log range needs low > 0, got %g", d.Lo)
	case d.Init < d.Lo || d.Init > d.Hi:
		return Domain{}, fmt.Errorf("init %g is outside [%g, %g]", d.Init, d.Lo, d.Hi)
	}
	return d, nil
}

// nodeLine finds the line of the i-th item of a top-level sequence.
func nodeLine(root *yaml.Node, key string, i int) int {
	if root == nil || len(root.Content) == 0 {
		return 1
	}
	m := root.Content[0]
	for k := 0; k+1 < len(m.Content); k += 2 {
		if m.Content[k].Value == key && i < len(m.Content[k+1].Content) {
			return m.Content[k+1].Content[i].Line
		}
	}
	return 1
}

// yamlError turns a YAML decode error into a SpaceFileError with its line.
func yamlError(file string, err error) error {
	msg := err.Error()
	line := 1
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		if j := strings.IndexAny(rest, ": "); j > 0 {
			if n, e := strconv.Atoi(rest[:j]); e == nil {
				line = n
			}
		}
	}
	return &SpaceFileError{File: file, Line: line, Err: errors.New(strings.TrimPrefix(msg, "yaml: "))}
}

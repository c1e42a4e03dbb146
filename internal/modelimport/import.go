package modelimport

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// Formats Import reads.
const (
	XGBoostJSON = "xgboost-json"
	XGBoostUBJ  = "xgboost-ubj"
	LightGBM    = "lightgbm"
	ONNX        = "onnx"
)

// Formats lists the formats Import reads, in detection order.
var Formats = []string{XGBoostJSON, XGBoostUBJ, LightGBM, ONNX}

// ErrFormat is returned (wrapped) when a file is not a model in the format
// given or in any format Import detects; ErrUnsupported when it is one but
// uses something Gyre cannot represent (a linear tree, an objective
// without a Gyre link).
var (
	ErrFormat      = errors.New("not a model file of a supported format")
	ErrUnsupported = errors.New("model uses a feature Gyre does not import")
)

// Options are the choices Import leaves to the caller.
type Options struct {
	// Format is one of Formats; empty detects it from the file's content.
	Format string
	// Target names the predicted column in the bundle (default "target").
	Target string
	// Classes names a classifier's classes in output order; default: the
	// labels the model stores (ONNX), else "0", "1", ....
	Classes []string
	// Features renames the input columns, in the model's feature order;
	// default: the names the model stores, else f0, f1, ....
	Features []string
	// Levels gives a categorical feature's categories in code order (the
	// pandas column's .cat.categories), by feature name (after Features):
	// the bundle then takes the category names, an unseen one as missing,
	// as pandas would code it. A categorical feature without levels (and
	// none stored in the model) takes its codes as numbers.
	Levels Levels
}

// Levels maps a categorical feature to its categories in code order. As a
// command-line flag (it implements pflag.Value) each value is
// NAME=A,B,C, repeatable.
type Levels map[string][]string

// Set adds one NAME=A,B,C.
func (l *Levels) Set(s string) error {
	name, cats, ok := strings.Cut(s, "=")
	if !ok || name == "" || cats == "" {
		return fmt.Errorf("%q: want NAME=CATEGORY,CATEGORY,... (the categories in code order)", s)
	}
	if _, dup := (*l)[name]; dup {
		return fmt.Errorf("%q: levels of %s given twice", s, name)
	}
	if *l == nil {
		*l = Levels{}
	}
	(*l)[name] = strings.Split(cats, ",")
	return nil
}

// String returns the levels as Set reads them.
func (l *Levels) String() string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(*l)) {
		parts = append(parts, n+"="+strings.Join((*l)[n], ","))
	}
	return strings.Join(parts, " ")
}

// Type names the flag's value type.
func (l *Levels) Type() string { return "NAME=CATS" }

// Result is an imported model.
type Result struct {
	Bundle *bundle.Bundle
	// Format is the format read; Source the producing library and version
	// when the file says ("xgboost 1.7.4").
	Format string
	Source string
	// Objective is the model's own objective or operator name.
	Objective string
	Trees     int
	// Notes say what the import changed or left out.
	Notes []string
}

// parsed is what a format reader produces: the ensemble with numbered
// features, before names and classes are settled.
type parsed struct {
	spec   gbdt.ModelSpec
	names  []string   // feature names stored in the model
	levels [][]string // per feature: the categories of a categorical one (codes in the graph), else nil
	// categorical marks features the model splits on by category code
	// (XGBoost's enable_categorical, LightGBM's categorical_feature), nil
	// when none is; their levels come from Options.Levels or the model,
	// else the bundle takes the codes as numbers.
	categorical []bool
	classes     int      // number of classes (0: regression)
	labels      []string // class labels stored in the model, if any
	objective   string
	source      string
	rounds      int
	sigmoid     float64 // LightGBM's binary sigmoid scale
	notes       []string
}

// ImportFile reads the model file at path (see Import).
func ImportFile(path string, o Options) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("import model: %w", err)
	}
	return Import(data, path, o)
}

// Import turns a model made by another library into a single-member gbdt
// bundle whose predictions match the original's: an XGBoost model saved as
// JSON or UBJSON (gbtree or dart boosters), a LightGBM text model, or an
// ONNX graph of one ai.onnx.ml TreeEnsembleRegressor/Classifier. name
// (the file's path) is used in errors and the bundle's lineage.
func Import(data []byte, name string, o Options) (*Result, error) {
	format := strings.ToLower(o.Format)
	if format == "" {
		format = Detect(data)
		if format == "" {
			return nil, fmt.Errorf("import model %s: %w: tried %s (the file starts with %q)", name, ErrFormat, strings.Join(Formats, ", "), head(data))
		}
	}
	var p *parsed
	var err error
	switch format {
	case XGBoostJSON:
		var v any
		if v, err = decodeJSON(data); err != nil {
			return nil, fmt.Errorf("import model %s: %w: want an XGBoost JSON model (Booster.save_model(\"model.json\")): %w", name, ErrFormat, err)
		}
		p, err = parseXGBoost(node{v: v})
	case XGBoostUBJ:
		var v any
		if v, err = decodeUBJSON(data); err != nil {
			return nil, fmt.Errorf("import model %s: %w: want an XGBoost UBJSON model (Booster.save_model(\"model.ubj\")): %w", name, ErrFormat, err)
		}
		p, err = parseXGBoost(node{v: v})
	case LightGBM:
		p, err = parseLightGBM(data)
	case ONNX:
		p, err = parseONNX(data)
	default:
		return nil, fmt.Errorf("import model %s: unknown format %q (want one of %s)", name, o.Format, strings.Join(Formats, ", "))
	}
	if err != nil {
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrUnsupported) {
			err = fmt.Errorf("%w: %w", ErrFormat, err)
		}
		return nil, fmt.Errorf("import model %s (%s): %w", name, format, err)
	}
	b, err := p.bundle(name, format, o)
	if err != nil {
		return nil, fmt.Errorf("import model %s (%s): %w", name, format, err)
	}
	return &Result{Bundle: b, Format: format, Source: p.source, Objective: p.objective,
		Trees: len(p.spec.Trees), Notes: p.notes}, nil
}

// Detect names the format of a model file from its first bytes, or "".
func Detect(data []byte) string {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case len(t) > 1 && t[0] == '{' && (t[1] == '"' || t[1] == ' ' || t[1] == '\n' || t[1] == '\r' || t[1] == '\t' || t[1] == '}'):
		return XGBoostJSON
	case len(data) > 2 && data[0] == '{' && strings.IndexByte("iUIlL$#}", data[1]) >= 0:
		return XGBoostUBJ
	case bytes.HasPrefix(t, []byte("tree\n")) || bytes.HasPrefix(t, []byte("tree\r\n")):
		return LightGBM
	case len(data) > 2 && data[0] == 0x08 && looksONNX(data):
		return ONNX
	}
	return ""
}

func head(data []byte) string {
	if len(data) > 16 {
		data = data[:16]
	}
	return string(data)
}

// applyLevels settles the categories of the model's categorical features:
// those given, else those the model stores; a categorical feature left
// without them takes codes as numbers (with a note).
func (p *parsed) applyLevels(names []string, given map[string][]string) error {
	index := make(map[string]int, len(names))
	for j, n := range names {
		index[n] = j
	}
	for _, n := range slices.Sorted(maps.Keys(given)) {
		j, ok := index[n]
		if !ok {
			return fmt.Errorf("levels given for %q, which is not a feature of the model (%s)", n, strings.Join(names, ", "))
		}
		if j >= len(p.categorical) || !p.categorical[j] {
			return fmt.Errorf("levels given for %q, which the model does not split on as a category", n)
		}
		lv := given[n]
		seen := make(map[string]bool, len(lv))
		for _, l := range lv {
			if seen[l] {
				return fmt.Errorf("levels of %q: %q appears twice", n, l)
			}
			seen[l] = true
		}
		if len(lv) == 0 {
			return fmt.Errorf("levels of %q: none given", n)
		}
		if p.levels == nil {
			p.levels = make([][]string, len(names))
		}
		p.levels[j] = lv
	}
	var codes []string
	for j, c := range p.categorical {
		if c && (j >= len(p.levels) || p.levels[j] == nil) {
			codes = append(codes, names[j])
		}
	}
	if len(codes) > 0 {
		p.notes = append(p.notes, fmt.Sprintf("categorical features %s take their category codes as numbers (pandas .cat.codes; a negative code is a missing value, a fraction is truncated); give their categories (--levels NAME=A,B,...) to take the names", strings.Join(codes, ", ")))
	}
	return nil
}

// bundle assembles the bundle: float input columns, the encoder that
// passes them through, and the model.
func (p *parsed) bundle(name, format string, o Options) (*bundle.Bundle, error) {
	names := p.names
	if len(o.Features) > 0 {
		if len(o.Features) != len(names) {
			return nil, fmt.Errorf("%d feature names given for a model of %d features (%s)", len(o.Features), len(names), strings.Join(names, ", "))
		}
		names = o.Features
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] {
			return nil, fmt.Errorf("feature names must be distinct and non-empty: %q appears twice or is empty (rename with --features)", n)
		}
		seen[n] = true
	}
	target := o.Target
	if target == "" {
		target = "target"
	}
	if seen[target] {
		return nil, fmt.Errorf("target %q is also a feature name (choose another with --target)", target)
	}
	var classes []string
	if p.classes > 0 {
		classes = p.labels
		if len(o.Classes) > 0 {
			classes = o.Classes
		}
		if classes == nil {
			for c := range p.classes {
				classes = append(classes, strconv.Itoa(c))
			}
		}
		if len(classes) != p.classes {
			return nil, fmt.Errorf("%d class names given for a model of %d classes", len(classes), p.classes)
		}
	} else if len(o.Classes) > 0 {
		return nil, fmt.Errorf("class names given for a regression model")
	}
	if err := p.applyLevels(names, o.Levels); err != nil {
		return nil, err
	}
	spec := p.spec
	spec.Classes = classes
	spec.Features = make([]learn.Feature, len(names))
	schema := frame.Schema{}
	enc := &feature.Encoder{}
	for j, n := range names {
		if j < len(p.levels) && p.levels[j] != nil {
			lv := p.levels[j]
			spec.Features[j] = learn.Feature{Name: n, Categorical: true, Levels: lv}
			schema.Fields = append(schema.Fields, frame.Field{Name: n, Kind: frame.KindCategorical, Role: frame.RoleFeature})
			enc.Fields = append(enc.Fields, feature.EncodedField{Name: n, Kind: frame.KindCategorical, Levels: lv})
			continue
		}
		spec.Features[j] = learn.Feature{Name: n}
		schema.Fields = append(schema.Fields, frame.Field{Name: n, Kind: frame.KindFloat, Role: frame.RoleFeature})
		enc.Fields = append(enc.Fields, feature.EncodedField{Name: n, Kind: frame.KindFloat})
	}
	m, err := gbdt.FromTrees(spec)
	if err != nil {
		return nil, err
	}
	params := map[string]string{"imported_from": format, "source_file": filepath.Base(name), "source_objective": p.objective}
	if p.source != "" {
		params["source_library"] = p.source
	}
	b := &bundle.Bundle{
		Manifest: bundle.Manifest{Task: spec.Task, Target: target, Classes: classes, Input: schema},
		Members: []bundle.Member{{
			Info:  bundle.MemberInfo{Learner: gbdt.Kind, Family: "trees", Params: params, Weight: 1},
			Prep:  &bundle.Prep{Encoder: enc},
			Model: m.Learned(),
		}},
	}
	return b, nil
}

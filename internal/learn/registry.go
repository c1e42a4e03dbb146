package learn

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spec registers a learner family.
type Spec struct {
	// Name is the registry name, e.g. "random_forest".
	Name string
	// Summary is a one-line description for `gyre learners`.
	Summary string
	// Tasks lists the tasks the learner supports.
	Tasks []Task
	// New returns a learner with default hyperparameters.
	New func() Learner
	// Decode rebuilds a fitted model from MarshalBinary output. The model
	// kinds it handles are listed in Kinds.
	Decode func(kind string, data []byte) (Model, error)
	// Kinds lists the model kinds Decode understands.
	Kinds []string
}

var (
	regMu   sync.RWMutex
	byName  = map[string]Spec{}
	byModel = map[string]Spec{}
)

// Register adds a learner family. It panics on a duplicate name; call it from
// an init function.
func Register(s Spec) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := byName[s.Name]; dup {
		panic("learn: duplicate learner " + s.Name)
	}
	byName[s.Name] = s
	for _, k := range s.Kinds {
		if _, dup := byModel[k]; dup {
			panic("learn: duplicate model kind " + k)
		}
		byModel[k] = s
	}
}

// Names returns the registered learner names, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(byName))
	for n := range byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the spec of a registered learner, or an error listing the
// valid names.
func Lookup(name string) (Spec, error) {
	regMu.RLock()
	s, ok := byName[name]
	regMu.RUnlock()
	if !ok {
		return Spec{}, fmt.Errorf("unknown learner %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// New returns the named learner with default hyperparameters.
func New(name string) (Learner, error) {
	s, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return s.New(), nil
}

// DecodeModel rebuilds a model saved with MarshalBinary.
func DecodeModel(kind string, data []byte) (Model, error) {
	if kind == BagKind {
		m, err := decodeBag(data)
		if err != nil {
			return nil, fmt.Errorf("decode bag model: %w", err)
		}
		return m, nil
	}
	regMu.RLock()
	s, ok := byModel[kind]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("decode model: unknown model kind %q (is this Gyre build missing a learner?)", kind)
	}
	m, err := s.Decode(kind, data)
	if err != nil {
		return nil, fmt.Errorf("decode %s model: %w", kind, err)
	}
	return m, nil
}

// Param describes one hyperparameter of a learner, read from the struct tags
// `param:"name"` and `help:"..."` on its exported fields.
type Param struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Default string `json:"default"`
	Help    string `json:"help"`
}

// Params lists the hyperparameters of a learner (a pointer to its struct).
func Params(l Learner) []Param {
	v := reflect.ValueOf(l)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	var out []Param
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("param")
		if name == "" || !f.IsExported() {
			continue
		}
		out = append(out, Param{Name: name, Type: typeName(f.Type), Default: fmt.Sprint(v.Field(i).Interface()), Help: f.Tag.Get("help")})
	}
	return out
}

func typeName(t reflect.Type) string {
	if t == reflect.TypeOf(time.Duration(0)) {
		return "duration"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	}
	return t.Kind().String()
}

// SetParam sets the hyperparameter `name` of learner l (a pointer to its
// struct) from text. Unknown names and unparseable values are errors that
// list what is valid. Range checks happen in Fit.
func SetParam(l Learner, name, value string) error {
	v := reflect.ValueOf(l)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("set %s: learner %s is not a pointer to a struct", name, l.Name())
	}
	v = v.Elem()
	t := v.Type()
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		pn := f.Tag.Get("param")
		if pn == "" {
			continue
		}
		names = append(names, pn)
		if pn != name {
			continue
		}
		if err := setValue(v.Field(i), value); err != nil {
			return fmt.Errorf("set %s.%s=%q: %w", l.Name(), name, value, err)
		}
		return nil
	}
	return fmt.Errorf("%w %q for learner %s (valid: %s)", ErrUnknownParam, name, l.Name(), strings.Join(names, ", "))
}

// ErrUnknownParam is returned (wrapped) by SetParam for a name the learner
// has no hyperparameter of.
var ErrUnknownParam = errors.New("unknown hyperparameter")

func setValue(f reflect.Value, s string) error {
	s = strings.TrimSpace(s)
	if f.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("want a duration such as 30s: %w", err)
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("want a number")
		}
		f.SetFloat(x)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer")
		}
		f.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("want a non-negative integer")
		}
		f.SetUint(x)
	case reflect.Bool:
		x, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		f.SetBool(x)
	case reflect.String:
		f.SetString(s)
	case reflect.Slice:
		parts := strings.Split(s, ",")
		sl := reflect.MakeSlice(f.Type(), len(parts), len(parts))
		for i, p := range parts {
			if err := setValue(sl.Index(i), p); err != nil {
				return fmt.Errorf("element %d: %w", i+1, err)
			}
		}
		f.Set(sl)
	default:
		return fmt.Errorf("unsupported hyperparameter type %s", f.Type())
	}
	return nil
}

// Description is a registered learner as `gyre learners` lists it: its
// name, summary, tasks and hyperparameters with their defaults.
type Description struct {
	Name    string   `json:"name"`
	Summary string   `json:"summary"`
	Tasks   []string `json:"tasks"`
	Params  []Param  `json:"params"`
}

// Describe describes the named learners (all registered ones when names
// is empty); an unknown name is Lookup's error.
func Describe(names ...string) ([]Description, error) {
	if len(names) == 0 {
		names = Names()
	}
	out := make([]Description, 0, len(names))
	for _, n := range names {
		s, err := Lookup(n)
		if err != nil {
			return nil, err
		}
		d := Description{Name: n, Summary: s.Summary, Params: Params(s.New())}
		for _, t := range s.Tasks {
			d.Tasks = append(d.Tasks, t.String())
		}
		out = append(out, d)
	}
	return out, nil
}

// WriteDescriptions writes the learners as text: a heading line per
// learner, its summary, then a line per hyperparameter.
func WriteDescriptions(w io.Writer, ds []Description) error {
	for _, d := range ds {
		fmt.Fprintf(w, "%s  (%s)\n  %s\n", d.Name, strings.Join(d.Tasks, ", "), d.Summary)
		for _, p := range d.Params {
			fmt.Fprintf(w, "    %-24s %-8s default %-10s %s\n", p.Name, p.Type, p.Default, p.Help)
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	return nil
}

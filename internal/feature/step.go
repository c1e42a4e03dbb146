package feature

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/gyre-ml/gyre/internal/frame"
)

// Step is an unfitted transform: a plain struct of parameters, as listed in a
// recipe. Fit learns from training rows and returns a separate Fitted value;
// the Step itself is never changed.
type Step interface {
	// Type is the registered type name, e.g. "impute" or "onehot".
	Type() string
	// Fit learns the step's state from training rows. target names the
	// target column ("" when there is none); steps that need it (target
	// encoding, supervised selection) return an error when it is absent.
	Fit(f *frame.Frame, target string) (Fitted, error)
}

// Fitted is a fitted transform: everything it needs is in its exported,
// JSON-serialisable fields.
type Fitted interface {
	// Type is the registered type name of the step that produced it.
	Type() string
	// Transform applies the fitted transform to new rows (the serving path).
	// It never changes f.
	Transform(f *frame.Frame) (*frame.Frame, error)
}

// TrainingTransformer is implemented by fitted steps that transform their own
// training rows differently from new rows: duplicate removal and outlier
// dropping remove training rows only, and target encoding gives each training
// row its out-of-fold encoding. f must be the frame the step was fitted on.
type TrainingTransformer interface {
	TransformTraining(f *frame.Frame) (*frame.Frame, error)
}

// Registration describes a step type for decoding and documentation.
type Registration struct {
	// Type is the name used in recipes and JSON.
	Type string
	// Summary is a one-line description.
	Summary string
	// NewStep returns a Step with default parameters.
	NewStep func() Step
	// NewFitted returns a zero Fitted to decode JSON into.
	NewFitted func() Fitted
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Registration{}
)

// Register adds a step type. It panics on a duplicate or incomplete
// registration (a programming error, found at init).
func Register(r Registration) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if r.Type == "" || r.NewStep == nil || r.NewFitted == nil {
		panic("feature: incomplete step registration " + r.Type)
	}
	if _, dup := registry[r.Type]; dup {
		panic("feature: step type registered twice: " + r.Type)
	}
	registry[r.Type] = r
}

// ErrUnknownStep is returned (wrapped) for a step type that is not registered.
var ErrUnknownStep = errors.New("unknown step type")

// Lookup returns the registration of a step type.
func Lookup(typ string) (Registration, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	r, ok := registry[typ]
	if !ok {
		return Registration{}, fmt.Errorf("step %q: %w (known: %v)", typ, ErrUnknownStep, stepTypesLocked())
	}
	return r, nil
}

// StepTypes returns the registered step types in name order.
func StepTypes() []Registration {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Registration, 0, len(registry))
	for _, n := range stepTypesLocked() {
		out = append(out, registry[n])
	}
	return out
}

func stepTypesLocked() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// typed is the JSON envelope of one step: its type and its body.
type typed struct {
	Type string          `json:"type"`
	Body json.RawMessage `json:"params"`
}

func marshalTyped(typ string, v any) (typed, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return typed{}, fmt.Errorf("encode step %q: %w", typ, err)
	}
	return typed{Type: typ, Body: b}, nil
}

func decodeStep(t typed) (Step, error) {
	r, err := Lookup(t.Type)
	if err != nil {
		return nil, fmt.Errorf("decode step: %w", err)
	}
	s := r.NewStep()
	if len(t.Body) > 0 {
		if err := strictJSON(t.Body, s); err != nil {
			return nil, fmt.Errorf("decode step %q: %w", t.Type, err)
		}
	}
	return s, nil
}

func decodeFitted(t typed) (Fitted, error) {
	r, err := Lookup(t.Type)
	if err != nil {
		return nil, fmt.Errorf("decode fitted step: %w", err)
	}
	s := r.NewFitted()
	if err := strictJSON(t.Body, s); err != nil {
		return nil, fmt.Errorf("decode fitted step %q: %w", t.Type, err)
	}
	return s, nil
}

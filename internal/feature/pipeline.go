package feature

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/gyre-ml/gyre/internal/frame"
)

// Pipeline is an ordered list of unfitted steps plus the column roles they
// respect. The zero value is an empty pipeline that passes features through.
type Pipeline struct {
	// Target names the target column ("" for none). It is given the target
	// role, so steps read it but never transform it.
	Target string
	// Roles assigns roles to other columns (id, ignore, time, ...) before the
	// steps run. Columns with the id or ignore role pass through untouched.
	Roles map[string]frame.Role
	// Steps run in order.
	Steps []Step
}

type pipelineJSON struct {
	Target string                `json:"target,omitempty"`
	Roles  map[string]frame.Role `json:"roles,omitempty"`
	Steps  []typed               `json:"steps"`
}

// MarshalJSON implements json.Marshaler.
func (p Pipeline) MarshalJSON() ([]byte, error) {
	out := pipelineJSON{Target: p.Target, Roles: p.Roles, Steps: []typed{}}
	for _, s := range p.Steps {
		t, err := marshalTyped(s.Type(), s)
		if err != nil {
			return nil, err
		}
		out.Steps = append(out.Steps, t)
	}
	return json.Marshal(out)
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *Pipeline) UnmarshalJSON(b []byte) error {
	var in pipelineJSON
	if err := strictJSON(b, &in); err != nil {
		return fmt.Errorf("decode pipeline: %w", err)
	}
	p.Target, p.Roles, p.Steps = in.Target, in.Roles, nil
	for _, t := range in.Steps {
		s, err := decodeStep(t)
		if err != nil {
			return err
		}
		p.Steps = append(p.Steps, s)
	}
	return nil
}

// Fit fits every step in order on the training frame f and returns the
// fitted pipeline together with the transformed training frame. Each step is
// fitted on the output of the previous one; steps with a training-only
// behaviour (TrainingTransformer) use it here. f is not modified.
func (p *Pipeline) Fit(f *frame.Frame) (*FittedPipeline, *frame.Frame, error) {
	if f == nil {
		return nil, nil, fmt.Errorf("fit pipeline: no data")
	}
	fp := &FittedPipeline{Target: p.Target, Roles: p.Roles}
	cur, err := fp.applyRoles(f)
	if err != nil {
		return nil, nil, fmt.Errorf("fit pipeline: %w", err)
	}
	fp.Input = featureFields(cur)
	for i, s := range p.Steps {
		fs, err := s.Fit(cur, p.Target)
		if err != nil {
			return nil, nil, fmt.Errorf("fit pipeline: step %d (%s): %w", i+1, s.Type(), err)
		}
		if tt, ok := fs.(TrainingTransformer); ok {
			cur, err = tt.TransformTraining(cur)
		} else {
			cur, err = fs.Transform(cur)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("fit pipeline: step %d (%s): transform training rows: %w", i+1, s.Type(), err)
		}
		fp.Steps = append(fp.Steps, fs)
	}
	fp.Output = cur.Schema()
	return fp, cur, nil
}

// FittedPipeline is a fitted Pipeline: the serving-time transform. Its JSON
// form (MarshalJSON, Save) is what travels in the model bundle.
type FittedPipeline struct {
	// Target and Roles are copied from the Pipeline.
	Target string
	Roles  map[string]frame.Role
	// Steps are the fitted steps in order.
	Steps []Fitted
	// Input lists the feature columns seen at fit, with their kinds.
	Input []frame.Field
	// Output is the schema of the transformed training frame; Transform
	// returns exactly these columns in this order (the target only when the
	// input has it).
	Output frame.Schema
}

type fittedPipelineJSON struct {
	Format int                   `json:"format"`
	Target string                `json:"target,omitempty"`
	Roles  map[string]frame.Role `json:"roles,omitempty"`
	Input  []frame.Field         `json:"input"`
	Output frame.Schema          `json:"output"`
	Steps  []typed               `json:"steps"`
}

// fittedFormat is the version of the fitted pipeline's JSON form.
const fittedFormat = 1

// MarshalJSON implements json.Marshaler.
func (fp *FittedPipeline) MarshalJSON() ([]byte, error) {
	out := fittedPipelineJSON{Format: fittedFormat, Target: fp.Target, Roles: fp.Roles, Input: fp.Input, Output: fp.Output, Steps: []typed{}}
	if out.Input == nil {
		out.Input = []frame.Field{}
	}
	for _, s := range fp.Steps {
		t, err := marshalTyped(s.Type(), s)
		if err != nil {
			return nil, err
		}
		out.Steps = append(out.Steps, t)
	}
	return json.Marshal(out)
}

// UnmarshalJSON implements json.Unmarshaler.
func (fp *FittedPipeline) UnmarshalJSON(b []byte) error {
	var in fittedPipelineJSON
	if err := strictJSON(b, &in); err != nil {
		return fmt.Errorf("decode fitted pipeline: %w", err)
	}
	if in.Format > fittedFormat {
		return fmt.Errorf("decode fitted pipeline: format %d is newer than this gyre understands (%d); upgrade gyre", in.Format, fittedFormat)
	}
	*fp = FittedPipeline{Target: in.Target, Roles: in.Roles, Input: in.Input, Output: in.Output}
	for _, t := range in.Steps {
		s, err := decodeFitted(t)
		if err != nil {
			return fmt.Errorf("decode fitted pipeline: %w", err)
		}
		fp.Steps = append(fp.Steps, s)
	}
	return nil
}

// Save writes the fitted pipeline as indented JSON to path.
func (fp *FittedPipeline) Save(path string) error {
	b, err := json.MarshalIndent(fp, "", "  ")
	if err != nil {
		return fmt.Errorf("save fitted pipeline %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save fitted pipeline: %w", err)
	}
	return nil
}

// LoadFitted reads a fitted pipeline written by Save.
func LoadFitted(path string) (*FittedPipeline, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load fitted pipeline: %w", err)
	}
	fp := &FittedPipeline{}
	if err := json.Unmarshal(b, fp); err != nil {
		return nil, fmt.Errorf("load fitted pipeline %s: %w", path, err)
	}
	return fp, nil
}

// Transform applies the fitted steps to new rows and returns the columns of
// Output in order. Feature columns seen at fit must be present (an error names
// a missing one) unless a leading drop step removes them; extra columns are
// ignored; the target passes through when
// present. Rows are never dropped on this path.
func (fp *FittedPipeline) Transform(f *frame.Frame) (*frame.Frame, error) {
	if f == nil {
		return nil, fmt.Errorf("transform: no data")
	}
	// Columns removed by leading drop steps are never read: not required.
	optional := fp.leadingDrops()
	for _, fld := range fp.Input {
		if f.Index(fld.Name) < 0 && !optional[fld.Name] {
			return nil, fmt.Errorf("transform: column %q was seen in training (%s) but is missing: %w", fld.Name, fld.Kind, frame.ErrNoColumn)
		}
	}
	cur, err := fp.applyRoles(f)
	if err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	for i, s := range fp.Steps {
		cur, err = s.Transform(cur)
		if err != nil {
			return nil, fmt.Errorf("transform: step %d (%s): %w", i+1, s.Type(), err)
		}
	}
	var names []string
	for _, fld := range fp.Output.Fields {
		if cur.Index(fld.Name) < 0 {
			if fld.Name == fp.Target || fld.Role != frame.RoleFeature {
				continue
			}
			return nil, fmt.Errorf("transform: output column %q missing after the steps ran", fld.Name)
		}
		names = append(names, fld.Name)
	}
	out, err := cur.Select(names...)
	if err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	return out, nil
}

// RequiredInput lists the input columns Transform needs: those seen at
// fit, less the target and the columns a leading drop step removes.
func (fp *FittedPipeline) RequiredInput() []frame.Field {
	optional := fp.leadingDrops()
	var out []frame.Field
	for _, fld := range fp.Input {
		if fld.Name != fp.Target && !optional[fld.Name] {
			out = append(out, fld)
		}
	}
	return out
}

// leadingDrops are the columns removed by the drop steps the pipeline
// starts with: Transform never reads them.
func (fp *FittedPipeline) leadingDrops() map[string]bool {
	optional := map[string]bool{}
	for _, s := range fp.Steps {
		sel, ok := s.(*Selected)
		if !ok || sel.Kind != "drop" {
			break
		}
		for _, n := range sel.Drop {
			optional[n] = true
		}
	}
	return optional
}

// applyRoles returns a shallow copy of f with the pipeline's roles set.
func (fp *FittedPipeline) applyRoles(f *frame.Frame) (*frame.Frame, error) {
	cur, err := f.Select(f.Names()...)
	if err != nil {
		return nil, err
	}
	if fp.Target != "" && cur.Index(fp.Target) >= 0 {
		if err := cur.SetRole(fp.Target, frame.RoleTarget); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(fp.Roles))
	for n := range fp.Roles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if cur.Index(n) < 0 {
			continue // roles name optional columns (an id absent at serving)
		}
		if err := cur.SetRole(n, fp.Roles[n]); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// featureFields lists the feature-role fields of f.
func featureFields(f *frame.Frame) []frame.Field {
	var out []frame.Field
	for _, fld := range f.Schema().Fields {
		if fld.Role == frame.RoleFeature || fld.Role == frame.RoleTime {
			out = append(out, fld)
		}
	}
	return out
}

// strictJSON decodes b into v, rejecting unknown fields.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

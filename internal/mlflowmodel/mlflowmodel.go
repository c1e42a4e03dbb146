// Package mlflowmodel writes a Gyre model as an MLflow model directory, so
// an MLflow deployment (mlflow models serve, a registry, Databricks, SageMaker
// via MLflow) can take it:
//
//	DIR/
//	  MLmodel              flavors onnx and python_function (loader_module
//	                       mlflow.onnx, data model.onnx), signature, input
//	                       example info, metadata
//	  model.onnx           the bundle exported by internal/onnx, with one
//	                       [N, 1] output per class probability
//	  conda.yaml           conda environment (python, pip: mlflow, onnx,
//	                       onnxruntime)
//	  python_env.yaml      virtualenv environment (-r requirements.txt)
//	  requirements.txt     pip requirements
//	  input_example.json   pandas "split" rows (when rows or a profile give one)
//
// The layout and keys follow what mlflow.onnx.save_model writes. MLflow's
// ONNX pyfunc feeds a DataFrame's values to the graph's single input and
// turns every output into one column (flattened), so the graph's outputs
// are all one value per row: "label" and proba_<class> for classifiers
// (onnx.WithProbabilityColumns), "variable" for regressors. The signature is
// column based: one double column per design-matrix feature, in order
// (MLflow enforces and reorders columns by it); a categorical feature takes
// its integer code into the levels listed in the model's metadata.
package mlflowmodel

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/onnx"
	"github.com/gyre-ml/gyre/internal/profile"
)

// Environment pins: the lowest versions that read what the directory holds
// (IR 8, opset 17 / ai.onnx.ml 3 graphs; the MLmodel keys of MLflow 2.9).
const (
	PythonVersion      = "3.10"
	MLflowRequirement  = "mlflow>=2.9"
	ONNXRequirement    = "onnx>=1.12"
	RuntimeRequirement = "onnxruntime>=1.14"
	// ONNXVersion is recorded as the flavor's onnx_version: the onnx
	// release that introduced IR 8 and opset 17.
	ONNXVersion = "1.12.0"
)

// MaxExampleRows caps the rows written to input_example.json.
const MaxExampleRows = 5

// Options adjust Write.
type Options struct {
	// Double exports a double input tensor (onnx.WithDoubleInput).
	Double bool
	// Example holds raw rows for input_example.json (the first
	// MaxExampleRows, encoded by the bundle); nil: a row of the reference
	// profile's medians, or none without a profile.
	Example *frame.Frame
	// GyreVersion and Ref are recorded in the metadata and the graph.
	GyreVersion, Ref string
	// Now is the creation time (zero: time.Now).
	Now time.Time
}

// Result describes a written directory.
type Result struct {
	Dir   string
	Files []string
	// Export is the ONNX export inside (its features, outputs, notes).
	Export *onnx.Export
	// Inputs and Outputs are the signature's columns.
	Inputs, Outputs []ColSpec
	// ExampleRows is the number of rows in input_example.json (0: none).
	ExampleRows int
	Notes       []string
}

// ColSpec is one column of an MLflow column-based schema.
type ColSpec struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// ErrExists is returned (wrapped) when the directory already exists.
var ErrExists = errors.New("output directory already exists")

// Write exports b to ONNX and writes the MLflow model directory dir, which
// must not exist: it is assembled in a temporary sibling and renamed, so a
// failure leaves nothing behind. Errors from onnx.ExportBundle (ensembles,
// non-gbdt models, smoothing) are returned as they are.
func Write(dir string, b *bundle.Bundle, o Options) (*Result, error) {
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("mlflow export: %s: %w (MLflow's save_model refuses it too)", dir, ErrExists)
	}
	opts := []onnx.Option{onnx.WithProbabilityColumns(), onnx.WithProducerVersion(o.GyreVersion),
		onnx.WithMetadata("gyre.target", b.Manifest.Target), onnx.WithMetadata("gyre.model", o.Ref)}
	if o.Double {
		opts = append(opts, onnx.WithDoubleInput())
	}
	e, err := onnx.ExportBundle(b, opts...)
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: dir, Export: e, Notes: append([]string(nil), e.Notes...)}
	for _, f := range e.Features {
		res.Inputs = append(res.Inputs, ColSpec{Type: "double", Name: f})
	}
	if b.Manifest.Task.Classification() {
		res.Outputs = append(res.Outputs, ColSpec{Type: "string", Name: onnx.OutputLabel})
		for _, name := range e.Outputs[1:] {
			res.Outputs = append(res.Outputs, ColSpec{Type: "float", Name: name})
		}
	} else {
		res.Outputs = []ColSpec{{Type: "float", Name: onnx.OutputValue}}
	}
	levels := map[string][]string{}
	for _, f := range b.Members[0].Prep.Features() {
		if f.Categorical {
			levels[f.Name] = f.Levels
		}
	}
	if len(levels) > 0 {
		res.Notes = append(res.Notes, "categorical features take integer codes into the levels listed in MLmodel's metadata (gyre_levels)")
	}
	example, err := exampleRows(b, e, o.Example)
	if err != nil {
		return nil, fmt.Errorf("mlflow export: input example: %w", err)
	}
	files, err := render(b, res, example, levels, o)
	if err != nil {
		return nil, fmt.Errorf("mlflow export: %w", err)
	}
	if err := writeDir(dir, files); err != nil {
		return nil, fmt.Errorf("mlflow export: %w", err)
	}
	for _, f := range files {
		res.Files = append(res.Files, f.name)
	}
	return res, nil
}

type file struct {
	name string
	data []byte
}

// exampleRows returns the input example's rows (encoded feature values,
// NaN = missing): from the given frame, else the profile's medians.
func exampleRows(b *bundle.Bundle, e *onnx.Export, f *frame.Frame) ([][]float64, error) {
	if f != nil {
		X, err := e.Encode(f)
		if err != nil {
			return nil, err
		}
		n := min(X.Rows, MaxExampleRows)
		rows := make([][]float64, n)
		for i := range rows {
			rows[i] = make([]float64, X.Cols)
			for j := range rows[i] {
				rows[i][j] = X.At(i, j)
			}
		}
		return rows, nil
	}
	if len(b.Profile) == 0 {
		return nil, nil
	}
	var p profile.Profile
	if err := json.Unmarshal(b.Profile, &p); err != nil {
		return nil, nil // an unreadable profile only costs the example
	}
	row := make([]float64, len(e.Features))
	for j, name := range e.Features {
		row[j] = 0 // categorical codes and unprofiled columns: the first level, 0
		for _, c := range p.Columns {
			if c.Name == name && c.Numeric != nil && len(c.Numeric.Quantiles) == len(profile.QuantileLevels) {
				row[j] = c.Numeric.Quantiles[3] // the median
			}
		}
	}
	return [][]float64{row}, nil
}

// The MLmodel document, in the key order MLflow writes (sorted).
type mlmodel struct {
	Flavors               flavors           `yaml:"flavors"`
	Metadata              map[string]any    `yaml:"metadata"`
	ModelSizeBytes        int64             `yaml:"model_size_bytes"`
	ModelUUID             string            `yaml:"model_uuid"`
	SavedInputExampleInfo map[string]string `yaml:"saved_input_example_info,omitempty"`
	Signature             signature         `yaml:"signature"`
	UTCTimeCreated        string            `yaml:"utc_time_created"`
}

type flavors struct {
	ONNX   onnxFlavor   `yaml:"onnx"`
	PyFunc pyfuncFlavor `yaml:"python_function"`
}

type onnxFlavor struct {
	Code           *string  `yaml:"code"`
	Data           string   `yaml:"data"`
	SessionOptions *string  `yaml:"onnx_session_options"`
	ONNXVersion    string   `yaml:"onnx_version"`
	Providers      []string `yaml:"providers"`
}

type pyfuncFlavor struct {
	Code          *string           `yaml:"code"`
	Data          string            `yaml:"data"`
	Env           map[string]string `yaml:"env"`
	LoaderModule  string            `yaml:"loader_module"`
	PythonVersion string            `yaml:"python_version"`
}

type signature struct {
	Inputs  string  `yaml:"inputs"`
	Outputs string  `yaml:"outputs"`
	Params  *string `yaml:"params"`
}

// render builds every file of the directory.
func render(b *bundle.Bundle, res *Result, example [][]float64, levels map[string][]string, o Options) ([]file, error) {
	files := []file{{"model.onnx", res.Export.Data}}
	req := MLflowRequirement + "\n" + ONNXRequirement + "\n" + RuntimeRequirement + "\n"
	files = append(files, file{"requirements.txt", []byte(req)})
	conda := fmt.Sprintf("channels:\n- conda-forge\ndependencies:\n- python=%s\n- pip\n- pip:\n  - %s\n  - %s\n  - %s\nname: mlflow-env\n",
		PythonVersion, MLflowRequirement, ONNXRequirement, RuntimeRequirement)
	files = append(files, file{"conda.yaml", []byte(conda)})
	venv := fmt.Sprintf("python: '%s'\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\ndependencies:\n- -r requirements.txt\n", PythonVersion)
	files = append(files, file{"python_env.yaml", []byte(venv)})
	m := mlmodel{
		Flavors: flavors{
			ONNX: onnxFlavor{Data: "model.onnx", ONNXVersion: ONNXVersion, Providers: []string{"CUDAExecutionProvider", "CPUExecutionProvider"}},
			PyFunc: pyfuncFlavor{Data: "model.onnx", Env: map[string]string{"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
				LoaderModule: "mlflow.onnx", PythonVersion: PythonVersion},
		},
		Metadata: map[string]any{"gyre_version": o.GyreVersion, "gyre_model": o.Ref, "gyre_task": b.Manifest.Task.String(),
			"gyre_target": b.Manifest.Target},
	}
	if len(levels) > 0 {
		m.Metadata["gyre_levels"] = levels
	}
	if example != nil {
		cols := make([]string, len(res.Inputs))
		for j, c := range res.Inputs {
			cols[j] = c.Name
		}
		data := make([][]any, len(example))
		for i, r := range example {
			data[i] = make([]any, len(r))
			for j, v := range r {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					data[i][j] = v
				}
			}
		}
		js, err := json.Marshal(map[string]any{"columns": cols, "data": data})
		if err != nil {
			return nil, err
		}
		files = append(files, file{"input_example.json", js})
		m.SavedInputExampleInfo = map[string]string{"artifact_path": "input_example.json", "type": "dataframe", "pandas_orient": "split"}
		res.ExampleRows = len(example)
	} else {
		res.Notes = append(res.Notes, "no input example: the bundle has no reference profile (pass rows with --example)")
	}
	in, err := json.Marshal(res.Inputs)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(res.Outputs)
	if err != nil {
		return nil, err
	}
	m.Signature = signature{Inputs: string(in), Outputs: string(out)}
	for _, f := range files {
		m.ModelSizeBytes += int64(len(f.data))
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	m.ModelUUID = hex.EncodeToString(id[:])
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	m.UTCTimeCreated = now.UTC().Format("2006-01-02 15:04:05.000000")
	var doc bytes.Buffer
	enc := yaml.NewEncoder(&doc)
	enc.SetIndent(2) // as MLflow's yaml.safe_dump
	if err := enc.Encode(&m); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return append([]file{{"MLmodel", doc.Bytes()}}, files...), nil
}

// writeDir writes files into a temporary sibling of dir and renames it.
func writeDir(dir string, files []file) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(tmp, f.name), f.data, 0o644); err != nil {
			os.RemoveAll(tmp)
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("move into %s: %w", dir, err)
	}
	return nil
}

package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// FormatVersion is the newest bundle format this build reads and writes.
// Format 2 added probability calibration (Manifest.Temperature, members'
// Temperature and Smoothing); a bundle without any is still written as
// format 1, so that older builds keep reading it, while a calibrated one is
// refused by them instead of being served uncalibrated. Format 3 added the
// bundle's recipe (Bundle.Recipe, entry recipe.json), applied to raw rows
// before every member. Format 4 made the integrity record (integrity.json)
// mandatory: Save writes every bundle as format 4, and a format 4 bundle
// without its record is refused, so deleting the record (and with it the
// manifest's protection) no longer turns verification off. Bundles of
// formats 1–3 written before integrity records existed still load without
// one, with a warning (Bundle.Warning).
const FormatVersion = 4

// integrityFormat is the first format whose bundles must carry
// integrity.json.
const integrityFormat = 4

// Manifest describes a bundle. It is stored as manifest.json.
type Manifest struct {
	Format      int        `json:"format"`
	GyreVersion string     `json:"gyre_version"`
	Created     time.Time  `json:"created"`
	Task        learn.Task `json:"task"`
	Target      string     `json:"target"`
	Classes     []string   `json:"classes,omitempty"`
	// Input is the schema of the raw input columns the bundle expects.
	Input frame.Schema `json:"input"`
	// Members of the model (one for a single model).
	Members []MemberInfo `json:"members"`
	// Temperature calibrates a classifier's combined probabilities:
	// p_c^(1/T) renormalised (learn.ScaleProba), fitted on out-of-fold
	// predictions by AutoML. 0 (absent) or 1: no calibration.
	Temperature float64 `json:"temperature,omitempty"`
	// Metric is the primary metric the model was selected on.
	Metric string `json:"metric,omitempty"`
	// Metrics holds scores by split ("train", "valid", "test") and name.
	Metrics map[string]map[string]float64 `json:"metrics,omitempty"`
	// Lineage.
	DatasetVersion string `json:"dataset_version,omitempty"`
	RunID          string `json:"run_id,omitempty"`
	GitCommit      string `json:"git_commit,omitempty"`
	// TrainRows is the number of rows the final model was fitted on.
	TrainRows int `json:"train_rows,omitempty"`
	// Files maps each archive entry to its SHA-256 (hex).
	Files map[string]string `json:"files"`
}

// MemberInfo describes one member model.
type MemberInfo struct {
	Learner   string            `json:"learner"`
	Family    string            `json:"family,omitempty"`
	Params    map[string]string `json:"params,omitempty"`
	ModelKind string            `json:"model_kind"`
	Weight    float64           `json:"weight"`
	// Temperature calibrates this member's probabilities before they are
	// weighted (learn.ScaleProba); 0 (absent) or 1: none. Format 2.
	Temperature float64 `json:"temperature,omitempty"`
	// Smoothing is added to this member's class probabilities before its
	// temperature (learn.CalibrateProba); 0 (absent): none. Format 2.
	Smoothing float64 `json:"smoothing,omitempty"`
}

// Prep is a member's fitted preprocessing: an optional fitted pipeline
// (imputation, encoding, scaling, ...) followed by the design-matrix encoder.
type Prep struct {
	Pipeline *feature.FittedPipeline `json:"pipeline,omitempty"`
	Encoder  *feature.Encoder        `json:"encoder"`
}

// Transform turns raw rows into the member's design matrix.
func (p *Prep) Transform(f *frame.Frame) (*frame.Matrix, feature.EncodeReport, error) {
	if p.Pipeline != nil {
		var err error
		if f, err = p.Pipeline.Transform(f); err != nil {
			return nil, feature.EncodeReport{}, err
		}
	}
	return p.Encoder.TransformReport(f)
}

// Member is one loaded member: its preprocessing and model.
type Member struct {
	Info  MemberInfo
	Prep  *Prep
	Model learn.Model
}

// Bundle is a loaded (or to-be-saved) model artifact.
type Bundle struct {
	Manifest Manifest
	Members  []Member
	// Integrity is what Decode verified: the digest over every entry and
	// the signature, if any (see Verify).
	Integrity Integrity
	// Profile is the training data profile as JSON (the drift reference),
	// or nil.
	Profile json.RawMessage
	// Recipe is the user's fitted recipe (`--recipe`), applied to the raw
	// input rows before any member's preprocessing; nil: none. Its input
	// is what Manifest.Input describes.
	Recipe *feature.FittedPipeline
}

// checkCalibration reports a temperature or smoothing no prediction could
// use, and whether the manifest calibrates anything (format 2).
func (m *Manifest) checkCalibration() (calibrated bool, err error) {
	check := func(what string, t float64) error {
		if t == 0 {
			return nil
		}
		if !(t > 0) || math.IsInf(t, 0) {
			return fmt.Errorf("%s %v: want a positive number", what, t)
		}
		calibrated = calibrated || t != 1
		return nil
	}
	if err := check("temperature", m.Temperature); err != nil {
		return false, err
	}
	for i, mi := range m.Members {
		if err := check(fmt.Sprintf("member %d temperature", i), mi.Temperature); err != nil {
			return false, err
		}
		if s := mi.Smoothing; s != 0 {
			if !(s > 0 && s < 1) {
				return false, fmt.Errorf("member %d smoothing %v: want a number in (0, 1)", i, s)
			}
			calibrated = true
		}
	}
	return calibrated, nil
}

// ErrCorrupt is returned (wrapped) for a damaged bundle.
var ErrCorrupt = errors.New("corrupt bundle")

// SaveBytesPerSec is a conservative rate, in bytes of encoded model state
// per second, at which Save encodes, compresses and writes a bundle, for
// callers that budget time for it (an AutoML search keeps time to save its
// result): below the 34–54 MB/s BenchmarkSaveForest measures for a forest
// of fully grown trees.
const SaveBytesPerSec = 30e6

// Save writes the bundle to path atomically (temporary file + rename). It
// fills in the format version, creation time (when zero) and checksums.
func (b *Bundle) Save(path string) error {
	if len(b.Members) == 0 {
		return fmt.Errorf("save bundle %s: no model", path)
	}
	m := b.Manifest
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	m.Members = make([]MemberInfo, len(b.Members))
	for i, mem := range b.Members {
		m.Members[i] = mem.Info
		m.Members[i].ModelKind = mem.Model.Kind()
	}
	if _, err := m.checkCalibration(); err != nil {
		return fmt.Errorf("save bundle %s: %w", path, err)
	}
	// Calibration (format 2) and a recipe (format 3) are both readable
	// in format 4, which every bundle is written as.
	m.Format = FormatVersion
	m.Files = map[string]string{}
	files := map[string][]byte{}
	var order []string
	add := func(name string, data []byte) {
		sum := sha256.Sum256(data)
		m.Files[name] = hex.EncodeToString(sum[:])
		files[name] = data
		order = append(order, name)
	}
	for i, mem := range b.Members {
		state, err := mem.Model.MarshalBinary()
		if err != nil {
			return fmt.Errorf("save bundle %s: encode member %d (%s): %w", path, i, mem.Info.Learner, err)
		}
		prep, err := json.Marshal(mem.Prep)
		if err != nil {
			return fmt.Errorf("save bundle %s: encode member %d preprocessing: %w", path, i, err)
		}
		add(fmt.Sprintf("members/%d/prep.json", i), prep)
		add(fmt.Sprintf("members/%d/model.bin", i), state)
	}
	if b.Profile != nil {
		add("profile.json", b.Profile)
	}
	if b.Recipe != nil {
		recipe, err := json.Marshal(b.Recipe)
		if err != nil {
			return fmt.Errorf("save bundle %s: encode the recipe: %w", path, err)
		}
		add(recipeEntry, recipe)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("save bundle %s: encode manifest: %w", path, err)
	}
	files["manifest.json"] = manifest
	order = append([]string{"manifest.json"}, order...)
	rec, err := newIntegrity(files, nil)
	if err != nil {
		return fmt.Errorf("save bundle %s: integrity: %w", path, err)
	}
	files[integrityEntry] = rec
	order = append(order, integrityEntry)
	data, err := writeZip(files, order, m.Created)
	if err != nil {
		return fmt.Errorf("save bundle %s: %w", path, err)
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("save bundle %s: %w", path, err)
	}
	b.Manifest = m
	return nil
}

// Encode returns the bundle as bytes (the same bytes Save writes).
func (b *Bundle) Encode() ([]byte, error) {
	dir, err := os.MkdirTemp("", "gyre-bundle-")
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "model.gyre")
	if err := b.Save(p); err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	// CreateTemp makes the file 0600; a bundle is shared like any output.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// recipeEntry is the archive entry of the bundle's fitted recipe.
const recipeEntry = "recipe.json"

// Raw applies the bundle's recipe to raw rows (f itself when it has none):
// what every member's preprocessing reads.
func (b *Bundle) Raw(f *frame.Frame) (*frame.Frame, error) {
	if b.Recipe == nil {
		return f, nil
	}
	out, err := b.Recipe.Transform(f)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	return out, nil
}

// Load reads a bundle file.
func Load(path string) (*Bundle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load bundle: %w", err)
	}
	b, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("load bundle %s: %w", path, err)
	}
	return b, nil
}

// Decode reads a bundle from bytes, verifying every checksum.
func Decode(data []byte) (*Bundle, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: not a Gyre bundle (zip: %v)", ErrCorrupt, err)
	}
	entries := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: entry %s: %v", ErrCorrupt, f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, 1<<34))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: entry %s: %v", ErrCorrupt, f.Name, err)
		}
		entries[f.Name] = b
	}
	raw, ok := entries["manifest.json"]
	if !ok {
		return nil, fmt.Errorf("%w: no manifest.json", ErrCorrupt)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrCorrupt, err)
	}
	if m.Format < 1 || m.Format > FormatVersion {
		return nil, fmt.Errorf("bundle format %d is not supported by this Gyre (reads 1..%d): upgrade gyre", m.Format, FormatVersion)
	}
	if _, err := m.checkCalibration(); err != nil {
		return nil, fmt.Errorf("%w: manifest.json: %v", ErrCorrupt, err)
	}
	in, err := checkIntegrity(entries, &m)
	if err != nil {
		return nil, err
	}
	for name, want := range m.Files {
		got, ok := entries[name]
		if !ok {
			return nil, fmt.Errorf("%w: %s is missing", ErrCorrupt, name)
		}
		sum := sha256.Sum256(got)
		if hex.EncodeToString(sum[:]) != want {
			return nil, fmt.Errorf("%w: checksum mismatch in %s", ErrCorrupt, name)
		}
	}
	for i := range m.Members {
		for _, f := range []string{"prep.json", "model.bin"} {
			if _, listed := m.Files[fmt.Sprintf("members/%d/%s", i, f)]; !listed {
				return nil, fmt.Errorf("%w: member %d's %s is not in the manifest's file list", ErrCorrupt, i, f)
			}
		}
	}
	b := &Bundle{Manifest: m, Profile: entries["profile.json"], Integrity: in}
	if _, listed := m.Files[recipeEntry]; listed {
		b.Recipe = &feature.FittedPipeline{}
		if err := json.Unmarshal(entries[recipeEntry], b.Recipe); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, recipeEntry, err)
		}
	} else if m.Format == 3 {
		return nil, fmt.Errorf("%w: a format 3 bundle without its %s", ErrCorrupt, recipeEntry)
	}
	for i, info := range m.Members {
		prepRaw, ok1 := entries[fmt.Sprintf("members/%d/prep.json", i)]
		state, ok2 := entries[fmt.Sprintf("members/%d/model.bin", i)]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: member %d files missing", ErrCorrupt, i)
		}
		prep := &Prep{}
		if err := json.Unmarshal(prepRaw, prep); err != nil {
			return nil, fmt.Errorf("%w: member %d preprocessing: %v", ErrCorrupt, i, err)
		}
		if prep.Encoder == nil {
			return nil, fmt.Errorf("%w: member %d has no encoder", ErrCorrupt, i)
		}
		model, err := learn.DecodeModel(info.ModelKind, state)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		b.Members = append(b.Members, Member{Info: info, Prep: prep, Model: model})
	}
	if len(b.Members) == 0 {
		return nil, fmt.Errorf("%w: no members", ErrCorrupt)
	}
	return b, nil
}

package distrib

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/blob"
)

// dataRef locates a problem blob: the blob store's location (a directory
// shared by the workers, or an s3:// URL; credentials come from each
// process's environment) and the blob's digest.
type dataRef struct {
	Store  string `json:"store"`
	Digest string `json:"digest"`
}

// floats travel as little-endian IEEE 754 bits, so every value (NaN and
// infinities included) comes back bit for bit: inline when small, else as
// a blob.
type floats struct {
	Inline []byte `json:"inline,omitempty"`
	Digest string `json:"digest,omitempty"`
	N      int    `json:"n"`
}

func floatBytes(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func bytesFloats(b []byte) ([]float64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of float64s", len(b))
	}
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

// packFloats encodes v, through store when it is longer than inlineMax
// bytes. A nil v stays nil.
func packFloats(ctx context.Context, store blob.Store, v []float64, inlineMax int) (floats, error) {
	if v == nil {
		return floats{N: -1}, nil
	}
	b := floatBytes(v)
	if len(b) <= inlineMax {
		return floats{Inline: b, N: len(v)}, nil
	}
	ref, err := store.Put(ctx, bytes.NewReader(b))
	if err != nil {
		return floats{}, fmt.Errorf("store predictions: %w", err)
	}
	return floats{Digest: ref.Digest, N: len(v)}, nil
}

// unpack decodes f, reading its blob from store when it has one.
func (f floats) unpack(ctx context.Context, store blob.Store) ([]float64, error) {
	if f.N < 0 {
		return nil, nil
	}
	b := f.Inline
	if f.Digest != "" {
		r, err := store.Get(ctx, f.Digest)
		if err != nil {
			return nil, fmt.Errorf("read predictions: %w", err)
		}
		defer r.Close()
		if b, err = io.ReadAll(r); err != nil {
			return nil, fmt.Errorf("read predictions %s: %w", f.Digest, err)
		}
	}
	v, err := bytesFloats(b)
	if err != nil {
		return nil, fmt.Errorf("predictions: %w", err)
	}
	if len(v) != f.N {
		return nil, fmt.Errorf("predictions: %d values, want %d", len(v), f.N)
	}
	return v, nil
}

// trialOut is one trial's result as it travels back from a worker.
type trialOut struct {
	ID            int           `json:"id"`
	OOF           floats        `json:"oof"`
	Runs          floats        `json:"runs"`
	FitTime       time.Duration `json:"fit_time"`
	PredictPerRow time.Duration `json:"predict_time_per_row"`
	Wall          time.Duration `json:"wall"`
	ModelBytes    int           `json:"model_bytes"`
	Err           string        `json:"error,omitempty"`
	// Worker is the identity of the worker that ran the trial, Attempt
	// the activity attempt (1: first).
	Worker  string `json:"worker"`
	Attempt int32  `json:"attempt"`
}

// result turns a trialOut back into the search's TrialResult.
func (o trialOut) result(ctx context.Context, store blob.Store) (automl.TrialResult, error) {
	r := automl.TrialResult{FitTime: o.FitTime, PredictPerRow: o.PredictPerRow, Wall: o.Wall, ModelBytes: o.ModelBytes}
	if o.Err != "" {
		r.Err = errors.New(o.Err)
		return r, nil
	}
	var err error
	if r.OOF, err = o.OOF.unpack(ctx, store); err != nil {
		return r, fmt.Errorf("trial %d: %w", o.ID, err)
	}
	if r.Runs, err = o.Runs.unpack(ctx, store); err != nil {
		return r, fmt.Errorf("trial %d: %w", o.ID, err)
	}
	return r, nil
}

// trialsInput is one activity's work: a few trials of a search.
type trialsInput struct {
	Data  dataRef            `json:"data"`
	Plan  automl.Plan        `json:"plan"`
	Specs []automl.TrialSpec `json:"specs"`
	// InlineMax is the size in bytes up to which a trial's predictions
	// travel inline.
	InlineMax int `json:"inline_max"`
	// Deadline, in a time budget, is when the search stops: the activity
	// cuts the trials it has not finished shortly before it, so that the
	// ones it did finish reach the search.
	Deadline time.Time `json:"deadline,omitzero"`
}

// trialsRequest is the argument of the "trials" update: one batch.
type trialsRequest struct {
	Batch int                `json:"batch"`
	Data  dataRef            `json:"data"`
	Plan  automl.Plan        `json:"plan"`
	Specs []automl.TrialSpec `json:"specs"`
	// Deadline is when the trials must be done by (zero: none, in
	// trial-count mode).
	Deadline time.Time `json:"deadline"`
	// PerActivity is how many trials one activity runs.
	PerActivity int `json:"per_activity"`
	InlineMax   int `json:"inline_max"`
	// Progress is the search's state before this batch.
	Progress Progress `json:"progress"`
}

// Progress is a search's state as its workflow reports it (query
// "progress").
type Progress struct {
	Trials  int     `json:"trials"`
	Best    float64 `json:"best"`
	Metric  string  `json:"metric,omitempty"`
	Learner string  `json:"learner,omitempty"`
	// Running counts the trials being evaluated.
	Running int `json:"running"`
}

// SearchInput starts an AutoMLWorkflow.
type SearchInput struct {
	// Source describes the data (for people reading the workflow list).
	Source string        `json:"source"`
	Data   dataRef       `json:"data"`
	Trials int           `json:"trials,omitempty"`
	Budget time.Duration `json:"budget,omitempty"`
	Seed   uint64        `json:"seed"`
	// Idle ends the workflow when no batch arrives for this long: the
	// search that drove it is gone.
	Idle time.Duration `json:"idle"`
	// Activity options of the trials.
	Heartbeat    time.Duration `json:"heartbeat"`
	TrialTimeout time.Duration `json:"trial_timeout"`
	Retries      int32         `json:"retries"`
}

// SearchSummary is how a search ended: the AutoMLWorkflow's result.
type SearchSummary struct {
	Progress
	Err string `json:"error,omitempty"`
}

package dataprep

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/validate"
)

// Masking masks the PII columns a contract declares in what a report
// shows (*governance.Masker; its methods accept a nil Masker, which
// masks nothing).
type Masking interface {
	// Frame returns f with the PII columns masked.
	Frame(f *frame.Frame) (*frame.Frame, error)
	// HashFunc returns the hash findings show values as, or nil.
	HashFunc() func(string) string
	// CheckProfile refuses a saved profile holding a PII column unmasked.
	CheckProfile(p *profile.Profile) error
}

// ReferenceOptions say how a drift reference is read or computed.
type ReferenceOptions struct {
	// Target is the target column of a reference data file.
	Target string
	Seed   uint64
	// Load reads a data source (the command's reader).
	Load func(ctx context.Context, source string) (*frame.Frame, error)
	// Mask masks the PII columns first (nil: none).
	Mask Masking
}

// Reference reads the profile saved at path (`gyre profile --save`),
// which must hold the PII columns masked already, or profiles the data
// source at path with its PII columns masked. A source that does not read
// or profile, and a saved profile that does not read or holds a PII column
// unmasked (*UnmaskedProfileError), are the input's errors; masking and
// cancellation are failures.
func Reference(ctx context.Context, path string, o ReferenceOptions) (*profile.Profile, error) {
	if p, ok, err := profile.ReadSaved(path); ok {
		if err != nil {
			return nil, err
		}
		if o.Mask != nil {
			if err := o.Mask.CheckProfile(p); err != nil {
				return nil, &UnmaskedProfileError{Path: path, Err: err}
			}
		}
		return p, nil
	}
	f, err := o.Load(ctx, path)
	if err != nil {
		return nil, err
	}
	if o.Mask != nil {
		if f, err = o.Mask.Frame(f); err != nil {
			return nil, failure{err}
		}
	}
	p, err := profile.Compute(ctx, f, profile.Options{Target: o.Target, Seed: o.Seed, Source: filepath.Base(path)})
	if err != nil {
		if ctx.Err() != nil {
			return nil, failure{err}
		}
		return nil, fmt.Errorf("reference %s: %w", path, err)
	}
	return p, nil
}

// UnmaskedProfileError is a saved reference profile at Path that holds a
// PII column unmasked (Err says which).
type UnmaskedProfileError struct {
	Path string
	Err  error
}

func (e *UnmaskedProfileError) Error() string { return "reference " + e.Path + " " + e.Err.Error() }
func (e *UnmaskedProfileError) Unwrap() error { return e.Err }

// ValidateOptions say what `gyre validate` checks its source against.
type ValidateOptions struct {
	// Source names the data checked (the report shows its base name).
	Source string
	// Against is a reference data source or saved profile (drift and the
	// reference's checks); "" checks Contract alone.
	Against string
	// Contract, when set, is checked too; ContractPath names it when it
	// is the only reference.
	Contract     *validate.Contract
	ContractPath string
	Reference    ReferenceOptions
	Options      validate.Options
	// Validating, when set, is called as the comparison starts; the
	// function it returns as it ends (a progress indicator).
	Validating func() (done func())
}

// Validate checks cur, the data at o.Source, against o.Against and/or
// o.Contract. Drift and profiles are computed on cur with its PII columns
// masked; the contract's checks see the raw values and findings name them
// masked. A comparison that fails is the input's error naming the
// reference and source; cancellation and masking are failures.
func Validate(ctx context.Context, cur *frame.Frame, o ValidateOptions) (*validate.Report, error) {
	var hash func(string) string
	if o.Reference.Mask != nil {
		hash = o.Reference.Mask.HashFunc()
	}
	var rep *validate.Report
	if o.Against == "" {
		rep = validate.CheckAgainstContractMasked(o.Contract, cur, hash)
		rep.Reference = filepath.Base(o.ContractPath)
		rep.Source = filepath.Base(o.Source)
		return rep, nil
	}
	ref, err := Reference(ctx, o.Against, o.Reference)
	if err != nil {
		return nil, err
	}
	masked := cur
	if o.Reference.Mask != nil {
		if masked, err = o.Reference.Mask.Frame(cur); err != nil {
			return nil, failure{err}
		}
	}
	done := func() {}
	if o.Validating != nil {
		done = o.Validating()
	}
	rep, err = validate.Against(ctx, ref, masked, o.Options)
	done()
	if err != nil {
		if ctx.Err() != nil {
			return nil, failure{err}
		}
		return nil, fmt.Errorf("%w (reference %s, source %s)", err, o.Against, o.Source)
	}
	rep.Reference = filepath.Base(o.Against)
	if o.Contract != nil {
		rep.Add(validate.CheckContractMasked(o.Contract, cur, hash)...)
	}
	rep.Source = filepath.Base(o.Source)
	return rep, nil
}

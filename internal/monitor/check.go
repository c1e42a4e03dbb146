package monitor

import (
	"context"
	"fmt"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/profile"
)

// CheckOptions are one check of a model (`gyre monitor`): the reference,
// the current data and the analysis options.
type CheckOptions struct {
	Options
	// Name is the model's name in the report and in the prediction log;
	// Version its version in the report.
	Name, Version string
	// Reference, when given, is a data source profiled as the reference
	// instead of the profile stored in the bundle.
	Reference string
	// Current, when given, is a data source analysed as the current data;
	// else the predictions the log (OpenLog) holds for Name since Since.
	Current string
	Since   time.Time
	// Load reads a data source.
	Load func(ctx context.Context, source string) (*frame.Frame, error)
	// OpenLog opens the prediction log, called only without Current.
	OpenLog func(ctx context.Context) (LogReader, error)
	// HTML, when set, is where the report's HTML page is written.
	HTML string
}

// ReferenceError is a bundle that stores no reference profile to compare
// with (CheckOptions.Reference gives one).
type ReferenceError struct{ Err error }

func (e *ReferenceError) Error() string { return e.Err.Error() }
func (e *ReferenceError) Unwrap() error { return e.Err }

// failure marks an error that is not the input's fault (exit code 1).
type failure struct{ error }

func (f failure) Unwrap() error { return f.error }
func (failure) Failure() bool   { return true }

// Check analyses b's current data against its reference and writes the
// HTML page when asked. Reading a source is the caller's Load's error; a
// bundle without a reference a *ReferenceError; a window without logged
// predictions ErrNoLogged; current data that does not fit the model an
// input error naming the source; the rest (profiling, reading the log,
// writing the page) failures.
func Check(ctx context.Context, b *bundle.Bundle, o CheckOptions) (*Report, error) {
	var ref *profile.Profile
	if o.Reference != "" {
		f, err := o.Load(ctx, o.Reference)
		if err != nil {
			return nil, err
		}
		if ref, err = ReferenceOf(ctx, b, f, o.Reference); err != nil {
			return nil, failure{err}
		}
	} else {
		var err error
		if ref, err = BundleReference(b); err != nil {
			return nil, &ReferenceError{err}
		}
	}
	var rep *Report
	if o.Current != "" {
		f, err := o.Load(ctx, o.Current)
		if err != nil {
			return nil, err
		}
		if rep, err = Analyze(ctx, b, ref, CurrentOf(b, f), o.Options); err != nil {
			return nil, fmt.Errorf("monitor %s: %w", o.Current, err)
		}
	} else {
		log, err := o.OpenLog(ctx)
		if err != nil {
			return nil, err
		}
		cur, err := ReadCurrent(ctx, log, b, predlog.Query{Model: o.Name, Since: o.Since})
		if err != nil {
			return nil, failure{err}
		}
		if cur.Frame.NumRows() == 0 {
			return nil, ErrNoLogged
		}
		if rep, err = Analyze(ctx, b, ref, cur, o.Options); err != nil {
			return nil, failure{err}
		}
	}
	rep.Model, rep.Version = o.Name, o.Version
	if o.HTML != "" {
		if err := rep.WriteHTML(o.HTML); err != nil {
			return nil, failure{err}
		}
	}
	return rep, nil
}

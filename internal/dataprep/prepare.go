package dataprep

import (
	"context"
	"fmt"
	"io"

	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// PrepareOptions say what `gyre prepare` fits, applies and writes.
type PrepareOptions struct {
	// Source is the data prepared; Out where it is written (its extension
	// picks the format).
	Source, Out string
	// Recipe is a recipe file to fit: on FitOn when given, else on Source
	// itself as training rows (duplicate and outlier removal apply, target
	// encoding is out-of-fold). The fitted recipe is saved to Save, else
	// FittedPath(Out).
	Recipe, FitOn, Save string
	// Fitted, instead of Recipe, is a fitted recipe saved earlier, applied
	// as it is.
	Fitted string
	// Read reads a source (the command's reading flags).
	Read func(source string) (*frame.Frame, error)
}

// PrepareResult is what Prepare wrote (`gyre prepare --json`).
type PrepareResult struct {
	Source  string `json:"source"`
	FitOn   string `json:"fit_on,omitempty"`
	Out     string `json:"out"`
	Fitted  string `json:"fitted"`
	RowsIn  int    `json:"rows_in"`
	RowsOut int    `json:"rows_out"`
	// Removed counts training rows dropped (duplicates, outliers).
	Removed int      `json:"removed"`
	Missing int      `json:"missing"`
	Columns []string `json:"columns"`
}

// failure marks an error that is not the input's fault (exit code 1).
type failure struct{ error }

func (f failure) Unwrap() error { return f.error }
func (failure) Failure() bool   { return true }

// Prepare fits or loads the recipe, applies it to the source and writes
// the result to o.Out. Reading, fitting and applying errors are the
// input's; a fitted recipe not saved is a failure; the output not written
// an *OutputError.
func Prepare(ctx context.Context, o PrepareOptions) (*PrepareResult, error) {
	res := &PrepareResult{Source: o.Source, Out: o.Out, FitOn: o.FitOn}
	var fp *feature.FittedPipeline
	var result *frame.Frame
	if o.Fitted != "" {
		var err error
		if fp, err = feature.LoadFitted(o.Fitted); err != nil {
			return nil, err
		}
		res.Fitted = o.Fitted
	} else {
		p, err := feature.LoadRecipe(o.Recipe)
		if err != nil {
			return nil, err
		}
		fitPath := o.FitOn
		if fitPath == "" {
			fitPath = o.Source
		}
		train, err := o.Read(fitPath)
		if err != nil {
			return nil, err
		}
		var trainOut *frame.Frame
		if fp, trainOut, err = p.Fit(train); err != nil {
			return nil, fmt.Errorf("prepare: fit %s on %s: %w", o.Recipe, fitPath, err)
		}
		if o.FitOn == "" {
			result = trainOut
			res.RowsIn = train.NumRows()
			res.Removed = train.NumRows() - trainOut.NumRows()
		}
		res.Fitted = o.Save
		if res.Fitted == "" {
			res.Fitted = FittedPath(o.Out)
		}
		if err := fp.Save(res.Fitted); err != nil {
			return nil, failure{err}
		}
	}
	if result == nil {
		f, err := o.Read(o.Source)
		if err != nil {
			return nil, err
		}
		res.RowsIn = f.NumRows()
		if result, err = fp.Transform(f); err != nil {
			return nil, fmt.Errorf("prepare %s: %w", o.Source, err)
		}
	}
	if err := ingest.Write(ctx, result, o.Out); err != nil {
		return nil, &OutputError{err}
	}
	res.RowsOut = result.NumRows()
	res.Columns = result.Names()
	for _, c := range result.Columns() {
		res.Missing += c.NullCount()
	}
	return res, nil
}

// WriteText writes what was written and the training rows removed.
func (r *PrepareResult) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "wrote %s: %d rows × %d columns (%d missing values)\n", r.Out, r.RowsOut, len(r.Columns), r.Missing)
	if r.Removed > 0 {
		_, err := fmt.Fprintf(w, "removed %d training rows (duplicates or outliers)\n", r.Removed)
		return err
	}
	return nil
}

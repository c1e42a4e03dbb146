package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/predlog"
)

// Current is the data a monitoring analysis looks at: the rows the model
// saw, what it predicted and, where known, the truth.
type Current struct {
	// Frame holds the input rows (the bundle's input columns).
	Frame *frame.Frame
	// Pred holds the model's predictions for the rows; nil means Analyze
	// predicts them with the bundle.
	Pred *bundle.Prediction
	// Times holds each row's prediction time (optional: no windows without).
	Times []time.Time
	// Labels holds each row's encoded truth (a value, or a class index),
	// NaN when unknown; nil when no row has a label.
	Labels []float64
}

// LogReader is the prediction log as monitoring reads it (*predlog.Log).
type LogReader interface {
	Read(ctx context.Context, q predlog.Query, schema frame.Schema, classes []string) (*predlog.Logged, error)
}

var _ LogReader = (*predlog.Log)(nil)

// ErrNoLogged is returned by AnalyzeLogged when the window holds no logged
// prediction.
var ErrNoLogged = errors.New("no logged predictions in the window")

// ReadCurrent reads the logged predictions matching q as a Current typed by
// the bundle's input schema: a value of another type is converted or
// missing, a class the bundle lacks is unknown, and feedback labels are
// encoded as the bundle encodes its target (an unknown class or a label
// that is not a number is unlabelled). It returns a Current with no rows
// when nothing matched.
func ReadCurrent(ctx context.Context, log LogReader, b *bundle.Bundle, q predlog.Query) (*Current, error) {
	m := &b.Manifest
	lg, err := log.Read(ctx, q, m.Input, m.Classes)
	if err != nil {
		return nil, err
	}
	cur := &Current{Frame: lg.Input, Pred: lg.Pred, Times: make([]time.Time, lg.Len())}
	for i, t := range lg.Time {
		cur.Times[i] = time.Unix(0, t).UTC()
	}
	if lg.Labeled > 0 {
		cur.Labels = encodeLabels(lg.Labels, m.Classes)
	}
	return cur, nil
}

// encodeLabels encodes label texts: values, or class indexes (NaN when
// none or unusable).
func encodeLabels(labels []string, classes []string) []float64 {
	classIndex := make(map[string]int, len(classes))
	for i, c := range classes {
		classIndex[c] = i
	}
	out := make([]float64, len(labels))
	for i, s := range labels {
		out[i] = math.NaN()
		switch {
		case s == "":
		case len(classes) > 0:
			if k, ok := classIndex[s]; ok {
				out[i] = float64(k)
			}
		default:
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				out[i] = v
			} else if v, err := strconv.ParseBool(s); err == nil && v {
				out[i] = 1
			} else if err == nil {
				out[i] = 0
			}
		}
	}
	return out
}

// AnalyzeLogged analyses a model's logged predictions since a time (see
// ReadCurrent and Analyze); a window without predictions is ErrNoLogged.
func AnalyzeLogged(ctx context.Context, log LogReader, b *bundle.Bundle, name string, since time.Time, o Options) (*Report, error) {
	ref, err := BundleReference(b)
	if err != nil {
		return nil, err
	}
	cur, err := ReadCurrent(ctx, log, b, predlog.Query{Model: name, Since: since})
	if err != nil {
		return nil, err
	}
	if cur.Frame.NumRows() == 0 {
		return nil, ErrNoLogged
	}
	rep, err := Analyze(ctx, b, ref, cur, o)
	if err != nil {
		return nil, fmt.Errorf("monitor %s: %w", name, err)
	}
	return rep, nil
}

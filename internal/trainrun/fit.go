package trainrun

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"time"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

// GCPercent is the garbage collector's heap growth allowance while Train
// runs, unless the user set GOGC. Go's default (100) lets the heap reach
// twice the live data before collecting; a training command's live data is
// a few large pointer-free arrays (columns, matrix, bins) that the
// collector marks for almost nothing, so a tighter allowance costs little
// CPU and keeps peak memory near the data's own size.
const GCPercent = 25

// TrainOptions configure Train.
type TrainOptions struct {
	Common
	// Learner names the learner; Params are its hyperparameters.
	Learner string
	Params  map[string]string
	// CV is the number of cross-validation folds the model is compared
	// with the baselines on (0: by the data's size; see train.CVOptions).
	CV int
}

// Train fits one learner (a clustering learner without a target) and
// writes, logs and optionally registers its bundle. The run log starts
// beside the fit: versioning hashes, copies and syncs the source file, I/O
// the fit need not wait for (with Register it must work first, before any
// training is done). It runs with the GC allowance GCPercent unless GOGC
// is set.
func Train(ctx context.Context, o TrainOptions) (*Result, error) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	}
	o.defaults()
	spec, err := learn.Lookup(o.Learner)
	if err != nil {
		return nil, err
	}
	clustering := slices.Equal(spec.Tasks, []learn.Task{learn.Clustering})
	d, err := prepare(ctx, &o.Common, "train", clustering)
	if err != nil {
		return nil, err
	}
	p := d.p
	rlDone := startRunLogAsync(ctx, &o.Common, "train", o.params(o.Learner, p, o.Params), d)
	if o.Register != "" {
		rl, err := rlDone()
		if err != nil {
			return nil, err
		}
		rlDone = func() (*runLog, error) { return rl, nil }
	}
	bar := o.Progress(-1, "training "+o.Learner)
	start := time.Now()
	fo := train.Options{Learner: o.Learner, Params: o.Params, Seed: o.Seed}
	b, err := train.Fit(ctx, p, fo)
	bar.Done()
	fit := time.Since(start)
	rl, rlErr := rlDone()
	if rlErr != nil {
		return nil, rlErr
	}
	if err != nil {
		rl.fail(ctx)
		return nil, fmt.Errorf("train: %w", err)
	}
	var cmp *train.Comparison
	var cvScores train.Scores
	if clustering {
		s, err := train.ClusterScores(b, p.Input())
		if err != nil {
			rl.fail(ctx)
			return nil, failed(fmt.Errorf("train: %w", err))
		}
		b.Manifest.Metrics = map[string]map[string]float64{"train": s}
	} else if err := scoreTraining(b, p); err != nil {
		rl.fail(ctx)
		return nil, err
	}
	attachReference(&o.Common, b, d.ref)
	out := o.Out
	if out == "" {
		out = fmt.Sprintf("%s-%s.gyre", trainlog.SafeName(o.Target), o.Learner)
		if clustering {
			out = o.Learner + ".gyre"
		}
	}
	res := resultOf(p, out)
	if !clustering {
		// Every use of all the training rows is done (the training
		// metrics, the drift reference, versioning): the baselines are
		// compared on a sample of them, with the whole frame let go
		// (168 MB of a 1M × 20 run, the peak without it).
		cvo := train.CVOptions{Folds: o.CV, Valid: d.valid.f}
		cvp := train.CompareSample(p, cvo)
		if cvp != p {
			p, d.p, d.src = nil, nil, nil
		}
		bar = o.Progress(-1, "scoring "+o.Learner+" against the baselines")
		cmp, cvScores, err = train.CrossValidate(ctx, cvp, fo, cvo)
		bar.Done()
		if err != nil {
			rl.fail(ctx)
			return nil, fmt.Errorf("train: compare with the baselines: %w", err)
		}
		if err := scoreHeldOut(b, &d.valid, &d.test); err != nil {
			rl.fail(ctx)
			return nil, err
		}
	}
	res.Learner, res.Params, res.FitSeconds, res.Metrics, res.Comparison, res.CV = o.Learner, b.Members[0].Info.Params, seconds(fit), b.Manifest.Metrics, cmp, cvScores
	if err := rl.finish(ctx, b, out, d.valid, d.test, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }

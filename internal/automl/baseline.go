package automl

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Baseline is a reference model scored on the search's own evaluation
// split, so that the chosen model's score can be read against it: the dummy
// (the training folds' class frequencies, or their mean target) and a
// simple model (Options.Simple, with its default hyperparameters).
type Baseline struct {
	// Name is "dummy" or the simple model's learner name.
	Name string `json:"name"`
	// Loss is the loss of its out-of-fold (or validation) predictions.
	Loss float64 `json:"loss"`
	// GroupLosses are the losses on the evaluation groups (see
	// Result.GroupLosses), in the same order for every model.
	GroupLosses []float64 `json:"group_losses"`
	// Err says why the baseline could not be scored ("" when it was).
	Err string `json:"error,omitempty"`
}

// evalGroups is the number of row groups a holdout or validation set is
// cut into to measure the spread of a score (cross-validation uses its
// first repeat's folds).
const evalGroups = 5

// groups returns the evaluation groups: positions in the out-of-fold vector
// whose losses give the spread of a score. With cross-validation they are
// the first repeat's folds; a holdout or validation set is dealt into
// evalGroups groups by position (its rows are in row order, so this is a
// systematic sample).
func (e *evalSplit) groups(folds int) [][]int {
	if e.method == "cv" {
		k := len(e.folds) / max(1, e.repeats)
		if folds > 0 && folds < k {
			k = folds
		}
		out := make([][]int, k)
		for f := range k {
			out[f] = e.folds[f].validPos
		}
		return out
	}
	n := len(e.rows)
	k := min(evalGroups, n)
	out := make([][]int, k)
	for i := range n {
		out[i%k] = append(out[i%k], i)
	}
	return out
}

// groupLosses scores out-of-fold outputs on every evaluation group. A group
// the loss cannot score (a ranking metric on one class) gets NaN.
func (s *searcher) groupLosses(oof []float64) []float64 {
	if oof == nil {
		return nil
	}
	k := len(s.p.Classes)
	width := 1
	if s.p.Task.Classification() {
		width = k
	}
	y := s.split.yValid(s)
	var out []float64
	for _, g := range s.split.groups(s.o.Folds) {
		yg := make([]float64, len(g))
		og := make([]float64, len(g)*width)
		for i, pos := range g {
			yg[i] = y[pos]
			copy(og[i*width:(i+1)*width], oof[pos*width:(pos+1)*width])
		}
		l := s.p.Loss(yg, predFromOOF(og, s.p.Task, k), og, k)
		if l >= inf || math.IsInf(l, 0) {
			l = math.NaN()
		}
		out = append(out, l)
	}
	return out
}

// inf is what a LossFunc returns for a prediction it cannot score.
const inf = 1e300

// dummyOOF predicts every validation row from its fold's training rows
// alone: the class frequencies (smoothed by half a row per class, so no
// class has probability 0) or the mean target.
func (s *searcher) dummyOOF() []float64 {
	k := len(s.p.Classes)
	width := 1
	if s.p.Task.Classification() {
		width = k
	}
	d := s.states[0].data
	oof := make([]float64, len(s.split.validRows())*width)
	scale := 1 / float64(max(1, s.split.repeats))
	for _, f := range s.split.folds {
		out := make([]float64, width)
		for _, r := range f.train {
			if width > 1 {
				out[int(d.Target(r))]++
			} else {
				out[0] += d.Target(r)
			}
		}
		if width > 1 {
			for c := range out {
				out[c] = (out[c] + 0.5) / (float64(len(f.train)) + 0.5*float64(k))
			}
		} else {
			out[0] /= float64(max(1, len(f.train)))
		}
		for _, pos := range f.validPos {
			for j := range out {
				oof[pos*width+j] += scale * out[j]
			}
		}
	}
	return oof
}

// scoreBaselines scores the dummy and the simple model on the evaluation
// split (before the search, so their time is part of the budget).
func (s *searcher) scoreBaselines(ctx context.Context) {
	if s.o.NoBaselines {
		return
	}
	y := s.split.yValid(s)
	k := len(s.p.Classes)
	score := func(name string, oof []float64) Baseline {
		return Baseline{Name: name, Loss: s.p.Loss(y, predFromOOF(oof, s.p.Task, k), oof, k), GroupLosses: s.groupLosses(oof)}
	}
	s.baselines = append(s.baselines, score("dummy", s.dummyOOF()))
	sp := s.o.Simple
	if sp.Learner == "" {
		return
	}
	d, ok := s.p.Data[sp.Family]
	if !ok {
		s.baselines = append(s.baselines, Baseline{Name: sp.Learner, Err: fmt.Sprintf("no %s data prepared", sp.Family)})
		return
	}
	st := &learnerState{space: sp, data: d}
	if s.p.Valid != nil {
		st.valid = s.p.Valid[sp.Family]
	}
	oof, _, _, _, _, _, err := s.evaluate(ctx, st, Config{}, s.split.trainRows())
	if err != nil {
		s.baselines = append(s.baselines, Baseline{Name: sp.Learner, Err: err.Error()})
		return
	}
	s.baselines = append(s.baselines, score(sp.Learner, oof))
}

// CVResult is the cross-validated (or holdout) evaluation of one
// configuration next to the baselines, on one evaluation split.
type CVResult struct {
	// Eval, Folds and Repeats describe the split as Result does.
	Eval           string
	Folds, Repeats int
	// Loss is the configuration's out-of-fold loss, GroupLosses its losses
	// per evaluation group (see Result.GroupLosses).
	Loss        float64
	GroupLosses []float64
	Baselines   []Baseline
	// OOF are the out-of-fold outputs (probabilities n×k for classifiers)
	// of the validation rows Rows (positions in the training data, or in the
	// validation data), whose targets are Y.
	OOF  []float64
	Rows []int
	Y    []float64
	Fit  time.Duration
}

// Evaluate scores one configuration of one learner on the evaluation split
// Options describe (Eval, Folds, Repeats, Seed), with the baselines on the
// same split: `gyre train --cv K`. Options.Spaces must hold the learner's
// space (its Domains may be empty); Trials and the deadline are not used.
func Evaluate(ctx context.Context, p Problem, o Options, cfg Config) (*CVResult, error) {
	if len(o.Spaces) != 1 {
		return nil, fmt.Errorf("automl: evaluate: want one learner, got %d", len(o.Spaces))
	}
	s, err := newSearcher(p, o)
	if err != nil {
		return nil, err
	}
	s.start = s.o.Now()
	s.split = s.makeSplit()
	s.scoreBaselines(ctx)
	st := s.states[0]
	oof, _, _, fit, _, _, err := s.evaluate(ctx, st, cfg, s.split.trainRows())
	if err != nil {
		return nil, fmt.Errorf("automl: evaluate %s: %w", st.space.Learner, err)
	}
	k := len(p.Classes)
	y := s.split.yValid(s)
	r := &CVResult{Eval: s.split.method, Baselines: s.baselines, OOF: oof, Rows: s.split.validRows(), Y: y, Fit: fit,
		Loss: p.Loss(y, predFromOOF(oof, p.Task, k), oof, k), GroupLosses: s.groupLosses(oof)}
	if r.Eval == "cv" {
		r.Folds, r.Repeats = s.o.Folds, s.split.repeats
	}
	return r, nil
}

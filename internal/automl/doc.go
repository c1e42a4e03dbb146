// Package automl finds the best model for a data set within a budget, the
// way FLAML (Wang et al., MLSys 2021) does it, then ensembles the way
// AutoGluon does.
//
// The search is cost-frugal: every learner starts from a low-cost
// configuration (few, small trees) and moves by FLOW2 local search in its
// normalised search space (see flow2). Which learner gets the next trial is
// chosen by its estimated cost for improvement (ECI): learners that improve
// cheaply get more trials, and untried learners are brought in by their cost
// relative to the cheapest. Large data sets are evaluated on a holdout with a
// training sample that grows ×4 from 10,000 rows; small ones by k-fold
// cross-validation (repeated on the smallest), its folds fitted side by side
// on the cores. Greedy ensemble selection (Caruana) over the trials'
// out-of-fold predictions is kept only when it beats the best single model,
// and the chosen model(s) are refitted on all training rows.
//
// Budgets: the time budget is the deadline of Run's context, and it is
// honoured including the refit and what the caller says it will do with
// the final models before that deadline (Options.PostCost: saving,
// scoring) — no trial starts that is not expected to finish, and running
// trials stop through their context. Without a deadline, a trial budget
// (Options.Trials) replaces every time-based decision by a deterministic
// cost model, so the same seed and trial count give a bit-identical result.
//
// The package sees learners only through the learn contracts and data only
// as per-family design matrices prepared by the caller; it logs trials
// through the Recorder it declares.
package automl

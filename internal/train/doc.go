// Package train turns a table and a target into a model bundle: it detects
// the task, encodes the target, fits each learner family's preprocessing on
// the training rows only, fits one learner (Fit) or runs the AutoML search
// (Search), and scores the result on held-out data (Score). The command
// line (gyre train, gyre automl) and pipelines train through it; distributed
// AutoML workers run automl trials on the problem it prepares.
package train

// Package distrib runs Gyre's work on Temporal (temporal.io), for searches
// and pipelines that outgrow one machine: AutoML trials fanned out to any
// number of `gyre worker` processes, pipeline runs whose steps are
// activities, and pipeline schedules as Temporal Schedules.
//
// # AutoML
//
// The search itself stays where it was started (the `gyre automl` process,
// or a pipeline's train step): it proposes batches of trials and learns from
// their results, so its decisions, and with `--trials N --seed S` its
// leaderboard and model, are the same whatever runs the trials. Executor
// implements automl.Executor on Temporal: Prepare encodes the per-family
// design matrices once into a content-addressed blob and starts one
// workflow per search (AutoMLWorkflow); each batch of trials is an update
// of that workflow, whose handler runs the trials as activities (a few
// small trials per activity, to spread Temporal's per-activity overhead).
// Workers fetch the data blob once per digest, rebuild the search's folds
// with automl.NewEvaluator (the binned matrix is then built once per worker
// and data set) and send back out-of-fold predictions, inline when small
// and through the blob store when not: Temporal refuses payloads over 2 MB.
//
// Activities heartbeat; a worker that dies has its activities retried on
// another after the heartbeat timeout, and a retried trial gives the same
// result because it depends only on its spec, the plan and the data.
// Cancelling the search (an interrupted `gyre automl`) cancels the workflow
// and, through their heartbeats, its running activities.
//
// # Pipelines
//
// PipelineWorkflow runs a gyre.yaml project's steps as one activity each,
// with per-step retries; the step cache and the run records live in the
// project's store, shared by every worker. Schedules map to Temporal
// Schedules starting that workflow, and triggers (new data, drift alerts)
// signal a per-pipeline workflow that starts at most one run at a time.
package distrib

// Package pipeline runs declared retraining pipelines: a gyre.yaml Project
// (the problem, its data, goals, the training budget, the promotion gate,
// monitoring and triggers) and Run, which executes the steps
//
//	ingest → validate → prepare → train → evaluate → gate → register → promote
//
// against the metadata and artifact stores (Env).
//
// Caching. Each step's output is stored in the pipeline_steps table under a
// key that hashes the step's configuration and the keys of the steps before
// it, starting from the content digest of the source data (package dataset
// versions it; an unchanged file costs a stat). A run whose keys are all
// cached does no work and reports status "unchanged". Trained bundles are
// blobs in the artifact store; the cache holds references.
//
// Tracking and lineage. A run that does work starts a parent tracked run
// (experiment "pipeline-NAME") with one child run per executed step, tagged
// with the step and cache key and linked to the data set version; the
// registered version records the training run and data set version.
//
// The gate scores the candidate and the model behind NAME@ALIAS (default
// production) on the same holdout, cut from the newest rows of the source
// (data.split: last, for time-ordered data) or at random, and passes when
// every goal holds (metric goals on the holdout, p99_latency of single-row
// predictions, model_size of the bundle) and the candidate beats production
// by at least gate.min_gain. Only a passing candidate is registered, and the
// alias moves only after the registered version's bundle is confirmed in the
// artifact store, so servers watching NAME@ALIAS switch to a complete model.
//
// Durability and concurrency. A run holds a lock row (pipeline_locks) with a
// lease renewed by a heartbeat; a second trigger for the same pipeline fails
// fast with a *BusyError and collapses into the run in progress; the lock of
// a killed process expires after Lease. A killed run leaves its completed
// steps cached, so the next run resumes after the last one; registration is
// idempotent (a bundle already registered is reused).
//
// Schedule fires runs from a cron expression (github.com/robfig/cron/v3's
// standard parser), from new versions of the source data and from monitoring
// alerts supplied by the caller.
package pipeline

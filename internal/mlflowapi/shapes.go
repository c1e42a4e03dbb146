package mlflowapi

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
)

// The JSON shapes of MLflow's protos (service.proto, model_registry.proto).

type keyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type experimentJSON struct {
	ExperimentID     string     `json:"experiment_id"`
	Name             string     `json:"name"`
	ArtifactLocation string     `json:"artifact_location"`
	LifecycleStage   string     `json:"lifecycle_stage"`
	LastUpdateTime   int64      `json:"last_update_time"`
	CreationTime     int64      `json:"creation_time"`
	Tags             []keyValue `json:"tags,omitempty"`
}

type metricJSON struct {
	Key       string `json:"key"`
	Value     Float  `json:"value"`
	Timestamp int64  `json:"timestamp"`
	Step      int64  `json:"step"`
}

type runInfoJSON struct {
	RunID          string `json:"run_id"`
	RunUUID        string `json:"run_uuid"`
	RunName        string `json:"run_name"`
	ExperimentID   string `json:"experiment_id"`
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	StartTime      int64  `json:"start_time"`
	EndTime        *int64 `json:"end_time,omitempty"`
	ArtifactURI    string `json:"artifact_uri"`
	LifecycleStage string `json:"lifecycle_stage"`
}

type datasetJSON struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema,omitempty"`
	Profile    string `json:"profile,omitempty"`
}

type datasetInputJSON struct {
	Tags    []keyValue  `json:"tags,omitempty"`
	Dataset datasetJSON `json:"dataset"`
}

type runJSON struct {
	Info runInfoJSON `json:"info"`
	Data struct {
		Metrics []metricJSON `json:"metrics,omitempty"`
		Params  []keyValue   `json:"params,omitempty"`
		Tags    []keyValue   `json:"tags,omitempty"`
	} `json:"data"`
	Inputs struct {
		DatasetInputs []datasetInputJSON `json:"dataset_inputs,omitempty"`
	} `json:"inputs"`
}

type registeredModelJSON struct {
	Name                 string             `json:"name"`
	CreationTimestamp    int64              `json:"creation_timestamp"`
	LastUpdatedTimestamp int64              `json:"last_updated_timestamp"`
	Description          string             `json:"description,omitempty"`
	LatestVersions       []modelVersionJSON `json:"latest_versions,omitempty"`
	Tags                 []keyValue         `json:"tags,omitempty"`
	Aliases              []aliasJSON        `json:"aliases,omitempty"`
}

type aliasJSON struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

type modelVersionJSON struct {
	Name                 string     `json:"name"`
	Version              string     `json:"version"`
	CreationTimestamp    int64      `json:"creation_timestamp"`
	LastUpdatedTimestamp int64      `json:"last_updated_timestamp"`
	UserID               string     `json:"user_id,omitempty"`
	CurrentStage         string     `json:"current_stage"`
	Description          string     `json:"description,omitempty"`
	Source               string     `json:"source"`
	RunID                string     `json:"run_id,omitempty"`
	Status               string     `json:"status"`
	Tags                 []keyValue `json:"tags,omitempty"`
	RunLink              string     `json:"run_link,omitempty"`
	Aliases              []string   `json:"aliases,omitempty"`
}

func pairs(m map[string]string) []keyValue {
	if len(m) == 0 {
		return nil
	}
	out := make([]keyValue, 0, len(m))
	for k, v := range m {
		out = append(out, keyValue{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// artifactRoot is the artifact location of an experiment, as the proxy
// serves it.
func artifactRoot(expID string) string { return "mlflow-artifacts:/" + expID }

// runArtifactURI is a run's artifact_uri.
func runArtifactURI(expID, runID string) string {
	return artifactRoot(expID) + "/" + runID + "/artifacts"
}

func toExperiment(e *track.ExperimentInfo) experimentJSON {
	loc := e.ArtifactLocation
	if loc == "" {
		loc = artifactRoot(e.ID)
	}
	return experimentJSON{ExperimentID: e.ID, Name: e.Name, ArtifactLocation: loc, LifecycleStage: e.Lifecycle,
		LastUpdateTime: e.Updated.UnixMilli(), CreationTime: e.Created.UnixMilli(), Tags: pairs(e.Tags)}
}

func toRunInfo(ri *track.RunInfo) runInfoJSON {
	info := runInfoJSON{RunID: ri.ID, RunUUID: ri.ID, RunName: ri.Name, ExperimentID: ri.ExperimentID, UserID: ri.User,
		Status: string(ri.Status), StartTime: ri.Start.UnixMilli(), ArtifactURI: runArtifactURI(ri.ExperimentID, ri.ID),
		LifecycleStage: ri.Lifecycle}
	if ri.End != nil {
		e := ri.End.UnixMilli()
		info.EndTime = &e
	}
	return info
}

// Tags MLflow clients and its UI read, filled in from Gyre's columns when
// a run logged by Gyre lacks them.
const (
	tagUser      = "mlflow.user"
	tagParent    = "mlflow.parentRunId"
	tagGitCommit = "mlflow.source.git.commit"
	tagSource    = "mlflow.source.name"
	tagContext   = "mlflow.data.context"
)

// toRun converts a run; digests gives Gyre data set versions' digests.
func toRun(ri *track.RunInfo, digests func(name string, version int64) string) runJSON {
	var out runJSON
	out.Info = toRunInfo(ri)
	for _, m := range ri.LatestMetrics {
		out.Data.Metrics = append(out.Data.Metrics, metricJSON{Key: m.Key, Value: Float{V: m.Value, Set: true}, Timestamp: m.Time.UnixMilli(), Step: m.Step})
	}
	out.Data.Params = pairs(ri.Params)
	tags := map[string]string{}
	for k, v := range ri.Tags {
		tags[k] = v
	}
	fill := func(k, v string) {
		if _, ok := tags[k]; !ok && v != "" {
			tags[k] = v
		}
	}
	fill(track.RunNameTag, ri.Name)
	fill(tagUser, ri.User)
	fill(tagParent, ri.ParentID)
	fill(tagGitCommit, ri.GitCommit)
	if ri.Command != "" {
		fill(tagSource, ri.Command)
	}
	out.Data.Tags = pairs(tags)
	for _, in := range ri.Inputs {
		out.Inputs.DatasetInputs = append(out.Inputs.DatasetInputs, datasetInputJSON{Tags: pairs(in.Tags),
			Dataset: datasetJSON{Name: in.Name, Digest: in.Digest, SourceType: in.SourceType, Source: in.Source, Schema: in.Schema, Profile: in.Profile}})
	}
	for _, d := range ri.Datasets {
		src, _ := json.Marshal(map[string]string{"uri": "gyre:dataset/" + d.Name + "@" + strconv.FormatInt(d.Version, 10)})
		in := datasetInputJSON{Dataset: datasetJSON{Name: d.Name, Digest: digests(d.Name, d.Version), SourceType: "gyre", Source: string(src)}}
		if d.Role != "" {
			in.Tags = []keyValue{{tagContext, d.Role}}
		}
		out.Inputs.DatasetInputs = append(out.Inputs.DatasetInputs, in)
	}
	return out
}

func toModelVersion(v *registry.Version, source string) modelVersionJSON {
	mv := modelVersionJSON{Name: v.Model, Version: strconv.FormatInt(v.Version, 10), CreationTimestamp: v.Created.UnixMilli(),
		LastUpdatedTimestamp: v.Updated.UnixMilli(), UserID: v.CreatedBy, CurrentStage: v.Stage, Description: v.Description,
		Source: source, RunID: v.RunID, Status: "READY", Tags: pairs(v.Tags), RunLink: v.RunLink, Aliases: v.Aliases}
	if mv.CurrentStage == "" {
		mv.CurrentStage = registry.StageNone
	}
	return mv
}

func toRegisteredModel(m *registry.Model, latest []modelVersionJSON) registeredModelJSON {
	rm := registeredModelJSON{Name: m.Name, CreationTimestamp: m.Created.UnixMilli(), LastUpdatedTimestamp: m.Updated.UnixMilli(),
		Description: m.Description, LatestVersions: latest, Tags: pairs(m.Tags)}
	for a, v := range m.Aliases {
		rm.Aliases = append(rm.Aliases, aliasJSON{Alias: a, Version: strconv.FormatInt(v, 10)})
	}
	sort.Slice(rm.Aliases, func(i, j int) bool { return rm.Aliases[i].Alias < rm.Aliases[j].Alias })
	return rm
}

// viewType parses MLflow's ViewType: ACTIVE_ONLY (default), DELETED_ONLY,
// ALL, or their numbers 1, 2, 3.
func viewType(field, s string) (track.ViewType, error) {
	switch strings.ToUpper(s) {
	case "", "ACTIVE_ONLY", "1":
		return track.ActiveOnly, nil
	case "DELETED_ONLY", "2":
		return track.DeletedOnly, nil
	case "ALL", "3":
		return track.AllViews, nil
	}
	return 0, invalid("field '%s': %q: want ACTIVE_ONLY, DELETED_ONLY or ALL", field, s)
}

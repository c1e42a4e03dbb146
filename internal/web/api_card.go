package web

import (
	"net/http"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/registry"
)

// ModelCard is what a model version's bundle says about itself: its task,
// input schema, members, the scores recorded at training and feature
// importance (the web UI's version page).
type ModelCard struct {
	Model       string                        `json:"model"`
	Version     int64                         `json:"version"`
	Task        string                        `json:"task"`
	Target      string                        `json:"target"`
	Classes     []string                      `json:"classes,omitempty"`
	Metric      string                        `json:"metric,omitempty"`
	Metrics     map[string]map[string]float64 `json:"metrics,omitempty"`
	Input       []frame.Field                 `json:"input"`
	Members     []bundle.MemberInfo           `json:"members"`
	TrainRows   int                           `json:"train_rows,omitempty"`
	GyreVersion string                        `json:"gyre_version,omitempty"`
	Created     time.Time                     `json:"created"`
	// Importance is per design-matrix column, from ImportanceSource (the
	// first member whose model reports it); empty when none does.
	Importance       map[string]float64 `json:"importance,omitempty"`
	ImportanceSource string             `json:"importance_source,omitempty"`
	// Signed reports an Ed25519 signature over the bundle; Reference that
	// it carries the training profile monitoring compares against.
	Signed    bool `json:"signed"`
	Reference bool `json:"reference"`
}

// SetStageRequest moves a version to a stage (MLflow's stages; Archived
// archives it).
type SetStageRequest struct {
	// Stage is None, Staging, Production or Archived.
	Stage string `json:"stage"`
}

func (s *Server) cardRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/models/{name}/versions/{version}/card", Role: access.Viewer,
			Summary:  "A version's model card: task, input schema, members, training scores, feature importance.",
			Response: ModelCard{}, Handler: ok(s.modelCard)},
		{Method: "PUT", Pattern: "/api/v1/models/{name}/versions/{version}/stage", Role: access.Editor,
			Summary: "Move a version to a stage (None, Staging, Production, Archived); audited.",
			Body:    SetStageRequest{}, Response: registry.Version{}, Handler: ok(s.setStage)},
	}
}

func (s *Server) modelCard(r *http.Request) (*ModelCard, error) {
	v, err := s.version(r, access.Viewer)
	if err != nil {
		return nil, err
	}
	b, err := s.loadBundle(r, v)
	if err != nil {
		return nil, err
	}
	m := b.Manifest
	c := &ModelCard{Model: v.Model, Version: v.Version, Task: m.Task.String(), Target: m.Target, Classes: m.Classes,
		Metric: m.Metric, Metrics: m.Metrics, Input: m.Input.Fields, Members: m.Members, TrainRows: m.TrainRows,
		GyreVersion: m.GyreVersion, Created: m.Created, Signed: b.Integrity.Signed(), Reference: len(b.Profile) > 0}
	c.Importance, c.ImportanceSource = b.Importance()
	return c, nil
}

func (s *Server) setStage(r *http.Request) (*registry.Version, error) {
	v, err := s.version(r, access.Editor)
	if err != nil {
		return nil, err
	}
	var req SetStageRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	if _, err := registry.ParseStage(req.Stage); err != nil {
		return nil, invalid("stage", err)
	}
	if err := s.o.Registry.TransitionStage(r.Context(), v.Model, v.Version, req.Stage, false); err != nil {
		return nil, err
	}
	return s.o.Registry.Version(r.Context(), v.Model, v.Version)
}

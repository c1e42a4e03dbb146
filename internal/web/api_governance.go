package web

import (
	"fmt"
	"net/http"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/validate"
)

// ClassifyRequest sets a classification.
type ClassifyRequest struct {
	// Classification is public, internal or pii; "" or none clears it.
	Classification string `json:"classification"`
}

func (req ClassifyRequest) parse() (validate.Classification, error) {
	c, err := validate.ParseClassification(req.Classification)
	if err != nil {
		return "", invalid("classification", err)
	}
	return c, nil
}

// governanceRoutes classify models and data set versions: governance, so
// admins only (of the model, or server-wide for data sets, which carry no
// grants of their own).
func (s *Server) governanceRoutes() []Route {
	return []Route{
		{Method: "PUT", Pattern: "/api/v1/models/{name}/classification", Role: access.Admin,
			Summary: "Classify a model: public, internal or pii (admin of the model).",
			Body:    ClassifyRequest{}, Response: registry.Model{}, Handler: ok(s.classifyModel)},
		{Method: "PUT", Pattern: "/api/v1/datasets/{name}/versions/{version}/classification", Role: access.Admin,
			Summary: "Classify a data set version: public, internal or pii (server admins); later versions inherit it.",
			Body:    ClassifyRequest{}, Response: dataset.Version{}, Handler: ok(s.classifyDataset)},
	}
}

func (s *Server) classifyModel(r *http.Request) (*registry.Model, error) {
	name, err := modelName(r, access.Admin)
	if err != nil {
		return nil, err
	}
	var req ClassifyRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	c, err := req.parse()
	if err != nil {
		return nil, err
	}
	if err := s.o.Registry.SetClassification(r.Context(), name, c); err != nil {
		return nil, err
	}
	return s.o.Registry.Model(r.Context(), name)
}

func (s *Server) classifyDataset(r *http.Request) (*dataset.Version, error) {
	name := r.PathValue("name")
	if err := checkName("name", name); err != nil {
		return nil, err
	}
	v, err := versionNumber(r)
	if err != nil {
		return nil, err
	}
	var req ClassifyRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	c, err := req.parse()
	if err != nil {
		return nil, err
	}
	if err := access.Require(r.Context(), access.Admin, access.ServerResource); err != nil {
		return nil, err
	}
	return s.o.Datasets.Classify(r.Context(), fmt.Sprintf("%s@%d", name, v), c)
}

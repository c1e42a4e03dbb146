package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/dataset"
)

func (s *Server) datasetRoutes() []Route {
	pageQ := []Param{{"max_results", "page size (1-1000, default 100)"}, {"page_token", "next_page_token of the previous page"}}
	return []Route{
		{Method: "GET", Pattern: "/api/v1/datasets", Role: access.Viewer, Summary: "List data sets.",
			Query: pageQ, Response: List[dataset.Info]{}, Handler: handlerFunc(s.listDatasets)},
		{Method: "GET", Pattern: "/api/v1/datasets/{name}/versions", Role: access.Viewer, Summary: "A data set's versions, newest first.",
			Query: pageQ, Response: List[dataset.Version]{}, Handler: handlerFunc(s.datasetLog)},
		{Method: "GET", Pattern: "/api/v1/datasets/{name}/versions/{version}", Role: access.Viewer, Summary: "One data set version with its summary.",
			Response: dataset.Version{}, Handler: handlerFunc(s.getDatasetVersion)},
		{Method: "GET", Pattern: "/api/v1/datasets/{name}/versions/{version}/data", Role: access.Viewer, Summary: "Download a data set version's bytes.",
			RawResponse: "application/octet-stream", Handler: handlerFunc(s.getDatasetData)},
		{Method: "GET", Pattern: "/api/v1/datasets/{name}/diff", Role: access.Viewer, Summary: "Compare two versions of a data set.",
			Query: []Param{{"from", "version number"}, {"to", "version number"}}, Response: dataset.Diff{}, Handler: handlerFunc(s.datasetDiff)},
	}
}

// Data sets carry no grants of their own: a server-wide viewer reads them.
func datasetName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if err := checkName("name", name); err != nil {
		return "", err
	}
	return name, access.Require(r.Context(), access.Viewer, access.ServerResource)
}

func (s *Server) listDatasets(w http.ResponseWriter, r *http.Request) error {
	if err := access.Require(r.Context(), access.Viewer, access.ServerResource); err != nil {
		return err
	}
	p, err := pageParams(r)
	if err != nil {
		return err
	}
	ds, err := s.o.Datasets.Datasets(r.Context())
	if err != nil {
		return err
	}
	items, next, err := paginate(ds, p)
	if err != nil {
		return err
	}
	writeList(w, items, next)
	return nil
}

func (s *Server) datasetLog(w http.ResponseWriter, r *http.Request) error {
	name, err := datasetName(r)
	if err != nil {
		return err
	}
	p, err := pageParams(r)
	if err != nil {
		return err
	}
	vs, err := s.o.Datasets.Log(r.Context(), name)
	if err != nil {
		return err
	}
	items, next, err := paginate(vs, p)
	if err != nil {
		return err
	}
	writeList(w, items, next)
	return nil
}

func (s *Server) datasetVersion(r *http.Request) (*dataset.Version, error) {
	name, err := datasetName(r)
	if err != nil {
		return nil, err
	}
	v, err := versionNumber(r)
	if err != nil {
		return nil, err
	}
	return s.o.Datasets.Get(r.Context(), fmt.Sprintf("%s@%d", name, v))
}

func (s *Server) getDatasetVersion(w http.ResponseWriter, r *http.Request) error {
	v, err := s.datasetVersion(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) getDatasetData(w http.ResponseWriter, r *http.Request) error {
	v, err := s.datasetVersion(r)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%d", v.Name, v.Version)
	if v.Format != "" {
		name += "." + v.Format
	}
	return s.streamBlob(w, r, v.Blob.Digest, v.Blob.Size, name)
}

func (s *Server) datasetDiff(w http.ResponseWriter, r *http.Request) error {
	name, err := datasetName(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var vs [2]int64
	for i, f := range []string{"from", "to"} {
		v, err := strconv.ParseInt(q.Get(f), 10, 64)
		if err != nil || v < 1 {
			return errorf(KindInvalid, f, "%s %q: want a positive version number", f, q.Get(f))
		}
		vs[i] = v
	}
	d, err := s.o.Datasets.Diff(r.Context(), fmt.Sprintf("%s@%d", name, vs[0]), fmt.Sprintf("%s@%d", name, vs[1]))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

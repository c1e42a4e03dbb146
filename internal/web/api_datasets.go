package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/dataset"
)

func (s *Server) datasetRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/datasets", Role: access.Viewer, Summary: "List data sets.",
			Query: pageQuery, Response: List[dataset.Info]{}, Handler: paged(s.listDatasets)},
		{Method: "GET", Pattern: "/api/v1/datasets/{name}/versions", Role: access.Viewer, Summary: "A data set's versions, newest first.",
			Query: pageQuery, Response: List[dataset.Version]{}, Handler: paged(s.datasetLog)},
		{Method: "POST", Pattern: "/api/v1/datasets/{name}/versions", Role: access.Editor, Summary: "Version a data file: the body is its bytes (unchanged content returns the latest version).",
			Query: []Param{{"source", "where the file was read (its extension gives the format)"}}, RawBody: "application/octet-stream",
			Response: dataset.Result{}, Handler: handlerFunc(s.uploadDataset)},
		{Method: "GET", Pattern: "/api/v1/datasets/{name}/versions/{version}", Role: access.Viewer, Summary: "One data set version with its summary.",
			Response: dataset.Version{}, Handler: ok(s.datasetVersion)},
		{Method: "GET", Pattern: "/api/v1/datasets/{name}/versions/{version}/data", Role: access.Viewer, Summary: "Download a data set version's bytes.",
			RawResponse: "application/octet-stream", Handler: handlerFunc(s.getDatasetData)},
		{Method: "GET", Pattern: "/api/v1/datasets/{name}/diff", Role: access.Viewer, Summary: "Compare two versions of a data set.",
			Query: []Param{{"from", "version number"}, {"to", "version number"}}, Response: dataset.Diff{}, Handler: ok(s.datasetDiff)},
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

func (s *Server) listDatasets(r *http.Request) ([]dataset.Info, error) {
	if err := access.Require(r.Context(), access.Viewer, access.ServerResource); err != nil {
		return nil, err
	}
	return s.o.Datasets.Datasets(r.Context())
}

func (s *Server) datasetLog(r *http.Request) ([]dataset.Version, error) {
	name, err := datasetName(r)
	if err != nil {
		return nil, err
	}
	return s.o.Datasets.Log(r.Context(), name)
}

func (s *Server) uploadDataset(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName("name", name); err != nil {
		return err
	}
	if err := access.Require(r.Context(), access.Editor, access.ServerResource); err != nil {
		return err
	}
	source := r.URL.Query().Get("source")
	if len(source) > 1024 {
		return errorf(KindInvalid, "source", "source: at most 1024 bytes")
	}
	res, err := s.o.Datasets.Upload(r.Context(), name, source, http.MaxBytesReader(w, r.Body, s.o.MaxUpload))
	if err != nil {
		return classify(err)
	}
	code := http.StatusOK
	if res.Created {
		code = http.StatusCreated
	}
	writeJSON(w, code, res)
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

func (s *Server) datasetDiff(r *http.Request) (*dataset.Diff, error) {
	name, err := datasetName(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	var vs [2]int64
	for i, f := range []string{"from", "to"} {
		v, err := strconv.ParseInt(q.Get(f), 10, 64)
		if err != nil || v < 1 {
			return nil, errorf(KindInvalid, f, "%s %q: want a positive version number", f, q.Get(f))
		}
		vs[i] = v
	}
	return s.o.Datasets.Diff(r.Context(), fmt.Sprintf("%s@%d", name, vs[0]), fmt.Sprintf("%s@%d", name, vs[1]))
}

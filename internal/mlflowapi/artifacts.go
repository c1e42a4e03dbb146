package mlflowapi

import (
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/track"
)

func (a *API) registerArtifacts() {
	a.add(http.MethodPut, artifactsRel+"/{path...}", access.Editor, access.Experiment, a.uploadArtifact)
	a.add(http.MethodGet, artifactsRel+"/{path...}", access.Viewer, access.Experiment, a.downloadArtifact)
	a.add(http.MethodGet, artifactsRel, access.Viewer, access.Experiment, decoded(a.listProxyArtifacts))
	a.add(http.MethodGet, "mlflow/artifacts/list", access.Viewer, access.Experiment, decoded(a.listRunArtifacts))
}

// artifactPath is a path under the proxy's root: EXP/RUN/artifacts/REL.
type artifactPath struct {
	exp, run, rel string
}

// parseArtifactPath splits and checks EXP/RUN/artifacts[/REL].
func parseArtifactPath(p string) (artifactPath, error) {
	if p == "" {
		return artifactPath{}, invalid("artifact path: want EXPERIMENT_ID/RUN_ID/artifacts/PATH")
	}
	if err := track.CheckRelPath(p); err != nil {
		return artifactPath{}, err
	}
	parts := strings.SplitN(p, "/", 4)
	if len(parts) < 3 || parts[2] != "artifacts" {
		return artifactPath{}, invalid("artifact path '%s': want EXPERIMENT_ID/RUN_ID/artifacts/PATH (a run's artifact_uri)", p)
	}
	ap := artifactPath{exp: parts[0], run: parts[1]}
	if len(parts) == 4 {
		ap.rel = parts[3]
	}
	return ap, nil
}

// proxyPath returns the artifact path of a proxy request, refusing
// encoded separators that the decoded path would hide.
func (c *call) proxyPath() (artifactPath, error) {
	raw := c.r.URL.EscapedPath()
	lower := strings.ToLower(raw)
	for _, enc := range []string{"%2f", "%5c", "%00", "%2e"} {
		if strings.Contains(lower, enc) {
			return artifactPath{}, invalid("artifact path %q: encoded '/', '\\', '.' or NUL is not allowed", raw)
		}
	}
	return parseArtifactPath(strings.TrimPrefix(c.rel, artifactsRel+"/"))
}

// artifactRun checks the route's role on the run a path names and that the
// path's experiment is the run's.
func (c *call) artifactRun(p artifactPath) (*track.RunInfo, error) {
	ri, err := c.run(p.run, "")
	if err != nil {
		return nil, err
	}
	if ri.ExperimentID != p.exp {
		return nil, notFound("artifact path: run %s is in experiment %s, not %s", ri.ID, ri.ExperimentID, p.exp)
	}
	return ri, nil
}

// proxyRun reads the path of a proxy upload or download and the run it
// names, checking the route's role on the run's experiment.
func (c *call) proxyRun() (artifactPath, *track.RunInfo, error) {
	p, err := c.proxyPath()
	if err != nil {
		return p, nil, err
	}
	ri, err := c.artifactRun(p)
	return p, ri, err
}

func (a *API) uploadArtifact(c *call) (any, error) {
	p, ri, err := c.proxyRun()
	if err != nil {
		return nil, err
	}
	if p.rel == "" {
		return nil, invalid("artifact path: want EXPERIMENT_ID/RUN_ID/artifacts/PATH with a file name after artifacts/")
	}
	run, err := c.resume(ri)
	if err != nil {
		return nil, err
	}
	if err := track.CheckKey("artifact", p.rel); err != nil {
		return nil, invalid("artifact path '%s': %v", p.rel, err)
	}
	ref, err := a.o.Blobs.Put(c.ctx, c.r.Body)
	if err != nil {
		return nil, err
	}
	return struct{}{}, run.LogArtifactRef(c.ctx, p.rel, ref)
}

// artifactNamed finds the run's artifact called name.
func artifactNamed(ri *track.RunInfo, name string) (track.Artifact, bool) {
	i := slices.IndexFunc(ri.Artifacts, func(art track.Artifact) bool { return art.Name == name })
	if i < 0 {
		return track.Artifact{}, false
	}
	return ri.Artifacts[i], true
}

func (a *API) downloadArtifact(c *call) (any, error) {
	p, ri, err := c.proxyRun()
	if err != nil {
		return nil, err
	}
	art, ok := artifactNamed(ri, p.rel)
	if !ok {
		return nil, notFound("No artifact '%s' in run %s", p.rel, ri.ID)
	}
	rc, err := a.o.Blobs.Get(c.ctx, art.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	ct := mime.TypeByExtension(path.Ext(art.Name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := c.w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.FormatInt(art.Size, 10))
	h.Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(path.Base(art.Name), `"`, "")+`"`)
	c.wrote = true
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method != http.MethodHead {
		if _, err := io.Copy(c.w, rc); err != nil {
			a.log.Warn("mlflow api: artifact download cut short", "run", ri.ID, "artifact", art.Name, "err", err)
		}
	}
	return nil, nil
}

type fileInfoJSON struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize *int64 `json:"file_size,omitempty"`
}

// listDir lists the run's artifacts directly under dir ("" for the root):
// files with their size, and directories once each. full gives each entry
// its path from the run's root, else its base name.
func listDir(ri *track.RunInfo, dir string, full bool) []fileInfoJSON {
	prefix := ""
	if dir != "" {
		prefix = strings.TrimSuffix(dir, "/") + "/"
	}
	seen := map[string]bool{}
	out := []fileInfoJSON{}
	for _, art := range ri.Artifacts {
		rest, ok := strings.CutPrefix(art.Name, prefix)
		if !ok || rest == "" {
			continue
		}
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		fi := fileInfoJSON{Path: name, IsDir: isDir}
		if full {
			fi.Path = prefix + name
		}
		if !isDir {
			size := art.Size
			fi.FileSize = &size
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

type listProxyArtifactsReq struct {
	Path string `json:"path"`
}

func (a *API) listProxyArtifacts(c *call, req *listProxyArtifactsReq) (any, error) {
	p, err := parseArtifactPath(strings.Trim(req.Path, "/"))
	if err != nil {
		return nil, err
	}
	ri, err := c.artifactRun(p)
	if err != nil {
		return nil, err
	}
	return map[string]any{"files": listDir(ri, p.rel, false)}, nil
}

type listRunArtifactsReq struct {
	RunID     string `json:"run_id"`
	RunUUID   string `json:"run_uuid"`
	Path      string `json:"path"`
	PageToken string `json:"page_token"`
}

func (a *API) listRunArtifacts(c *call, req *listRunArtifactsReq) (any, error) {
	ri, err := c.run(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	dir := strings.TrimSuffix(req.Path, "/")
	if dir != "" {
		if err := track.CheckRelPath(dir); err != nil {
			return nil, err
		}
	}
	return map[string]any{"root_uri": runArtifactURI(ri.ExperimentID, ri.ID), "files": listDir(ri, dir, true)}, nil
}

package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/mlflowapi"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/train/traintest"
	"github.com/gyre-ml/gyre/internal/web"
)

const titanic = "../../examples/data/titanic/titanic.train.csv"

var (
	bundleOnce  sync.Once
	bundleBytes []byte
	bundleErr   error
)

// testBundle is a real model: a decision tree fitted on titanic, encoded.
func testBundle(t testing.TB) []byte {
	t.Helper()
	bundleOnce.Do(func() {
		bundleBytes, bundleErr = traintest.Fit(t, titanic, "Survived", train.Options{Learner: "decision_tree"}).Encode()
	})
	if bundleErr != nil {
		t.Fatal(bundleErr)
	}
	return bundleBytes
}

// harness is a server on one backend with an account per role.
type harness struct {
	t      testing.TB
	URL    string
	srv    *web.Server
	db     *sqlstore.DB
	blobs  blob.Store
	acc    *access.Store
	tokens map[string]string // admin, editor, viewer, expired, revoked, modeleditor
	ids    map[string]string // ids of fixtures: run, experiment, token
}

// artifactsFor returns an artifact store location: S3 (GYRE_TEST_S3) beside
// PostgreSQL, a temporary directory otherwise.
func artifactsFor(t testing.TB, b sqlstoretest.Backend) string {
	if s3 := os.Getenv("GYRE_TEST_S3"); s3 != "" && b.Name == "postgres" {
		var rb [6]byte
		_, _ = rand.Read(rb[:])
		base, q, _ := strings.Cut(s3, "?")
		return strings.TrimRight(base, "/") + "/web-" + hex.EncodeToString(rb[:]) + "?" + q
	}
	return t.TempDir()
}

func newHarness(t testing.TB, b sqlstoretest.Backend, o web.Options) *harness {
	t.Helper()
	ctx := context.Background()
	db := sqlstoretest.Open(t, b)
	bs, err := blob.Open(ctx, artifactsFor(t, b))
	if err != nil {
		t.Fatal(err)
	}
	acc := access.New(db)
	o.DB, o.Blobs, o.Access, o.Version = db, bs, acc, "test"
	// The whole server's route table: Gyre's API and the MLflow API.
	o.Tracker = track.New(db, bs)
	o.Registry = registry.New(db, bs)
	o.Datasets = dataset.New(db, bs)
	o.Mounts = []web.Mount{web.MLflow(mlflowapi.New(mlflowapi.Options{Tracker: o.Tracker, Registry: o.Registry, Datasets: o.Datasets, Blobs: bs}))}
	srv, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	h := &harness{t: t, URL: ts.URL, srv: srv, db: db, blobs: bs, acc: acc, tokens: map[string]string{}, ids: map[string]string{}}
	mk := func(name string, role access.Role, expires time.Time) string {
		if _, err := acc.CreateAccount(ctx, name, access.AccountOptions{Role: role}); err != nil {
			t.Fatal(err)
		}
		secret, _, err := acc.CreateToken(ctx, name, access.TokenOptions{Expires: expires})
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	h.tokens["admin"] = mk("admin", access.Admin, time.Time{})
	h.tokens["editor"] = mk("editor", access.Editor, time.Time{})
	h.tokens["viewer"] = mk("viewer", access.Viewer, time.Time{})
	h.tokens["modeleditor"] = mk("modeleditor", access.Viewer, time.Time{})
	if err := acc.Grant(ctx, "modeleditor", access.Resource{Kind: access.Model, Name: "adult"}, access.Editor); err != nil {
		t.Fatal(err)
	}
	h.tokens["expired"] = mk("late", access.Admin, time.Now().Add(time.Hour))
	h.tokens["revoked"] = mk("gone", access.Admin, time.Time{})
	ts2, _ := acc.Tokens(ctx, "gone")
	if err := acc.RevokeToken(ctx, ts2[0].ID); err != nil {
		t.Fatal(err)
	}
	// The expired token: the store's clock runs past its expiry.
	lateTok, _ := acc.Tokens(ctx, "late")
	shift := time.Until(*lateTok[0].Expires) + time.Minute
	acc.Now = func() time.Time { return time.Now().Add(shift) }
	return h
}

// do sends a request with a token (or none) and returns the status and
// body.
func (h *harness) do(method, path, token string, body any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/octet-stream"
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// must sends a request as who and decodes the answer into out, failing
// unless the status is want.
func (h *harness) must(want int, method, path, who string, body, out any) {
	h.t.Helper()
	code, b := h.do(method, path, h.tokens[who], body)
	if code != want {
		h.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, who, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// seed makes the fixtures routes refer to: an experiment with a run that
// has a metric and an artifact, model "adult" with version 1 and alias
// "prod", data set... (none: data sets come from files, see the tests).
func (h *harness) seed() {
	h.t.Helper()
	var run struct {
		ID string `json:"run_id"`
	}
	h.must(201, "POST", "/api/v1/runs", "editor", map[string]any{"experiment": "exp1", "params": map[string]string{"lr": "0.1"}}, &run)
	h.ids["run"] = run.ID
	h.must(204, "POST", "/api/v1/runs/"+run.ID+"/metrics", "editor", map[string]any{"metrics": []map[string]any{{"key": "auc", "value": 0.9, "step": 1}}}, nil)
	h.must(201, "PUT", "/api/v1/runs/"+run.ID+"/artifacts/a.txt", "editor", []byte("hello"), nil)
	var exps web.List[struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}]
	h.must(200, "GET", "/api/v1/experiments", "viewer", nil, &exps)
	for _, e := range exps.Items {
		if e.Name == "exp1" {
			h.ids["experiment"] = e.ID
		}
	}
	h.must(201, "POST", "/api/v1/models/adult/versions?run_id="+run.ID, "editor", testBundle(h.t), nil)
	h.must(200, "PUT", "/api/v1/models/adult/aliases/prod", "editor", map[string]any{"version": 1}, nil)
	// A spare token of the viewer's for the token routes to act on.
	_, spare, err := h.acc.CreateToken(context.Background(), "viewer", access.TokenOptions{Description: "spare"})
	if err != nil {
		h.t.Fatal(err)
	}
	h.ids["token"] = spare.ID
}

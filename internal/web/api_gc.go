package web

import (
	"net/http"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/retention"
)

// GCRequest runs the retention policy (gyre gc) on the server's stores.
type GCRequest struct {
	// OlderThan is the horizon's age: "90d", "2w", "12h".
	OlderThan string `json:"older_than"`
	// KeepAliased also prunes old model versions, keeping those with an
	// alias or a Staging/Production stage and each model's latest.
	KeepAliased bool `json:"keep_aliased,omitempty"`
	// DryRun reports what would go and deletes nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// Grace is the minimum age of a never-referenced blob or a temporary
	// file (default 24h).
	Grace string `json:"grace,omitempty"`
}

// Options returns the retention options the request asks for; a bad age
// is an invalid_argument naming its field.
func (req GCRequest) Options() (retention.Options, error) {
	var o retention.Options
	if req.OlderThan == "" {
		return o, errorf(KindInvalid, "older_than", "older_than is required: an age such as 90d")
	}
	d, err := ParseAge(req.OlderThan)
	if err != nil || d == 0 {
		return o, errorf(KindInvalid, "older_than", "older_than %q: want a positive age such as 90d, 2w or 12h", req.OlderThan)
	}
	o.OlderThan, o.KeepAliased, o.DryRun = d, req.KeepAliased, req.DryRun
	if req.Grace != "" {
		if o.Grace, err = ParseAge(req.Grace); err != nil || o.Grace == 0 {
			return o, errorf(KindInvalid, "grace", "grace %q: want a positive age such as 24h", req.Grace)
		}
	}
	return o, nil
}

func (s *Server) gcRoutes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/api/v1/gc", Role: access.Admin,
			Summary: "Apply a retention horizon (server admins): delete unreferenced runs, old model versions without an alias (keep_aliased), prediction-log batches and unreferenced blobs older than it, each deletion audited; dry_run only reports.",
			Body:    GCRequest{}, Response: retention.Report{}, Handler: ok(s.gc)},
	}
}

func (s *Server) gc(r *http.Request) (*retention.Report, error) {
	var req GCRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	o, err := req.Options()
	if err != nil {
		return nil, err
	}
	if err := access.Require(r.Context(), access.Admin, access.ServerResource); err != nil {
		return nil, err
	}
	o.Now = time.Now
	c := &retention.Collector{DB: s.o.DB, Blobs: s.o.Blobs, Tracker: s.o.Tracker, Log: predlog.New(s.o.DB, s.o.Blobs)}
	return c.Collect(r.Context(), o)
}

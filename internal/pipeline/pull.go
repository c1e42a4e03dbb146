package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/ingest/httpsource"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Pulled sources. A data.source given by URL (an http(s) API, a database
// table, a collection, a topic) is not a file to stat and hash: the ingest
// step pulls it whole through ingest.Read, writes what it read as a
// Parquet snapshot and versions that (dataset.Catalog.Snapshot), so each
// pull whose content differs is a new data set version and an unchanged
// pull is the same version (and a run with nothing else changed does no
// work). The later steps read the versioned snapshot, never the source
// again, so a model is trained on exactly the version its lineage names.
// triggers.on_new_data pulls every poll; triggers.schedule pulls at each
// scheduled run.

// pulledSource reports whether src is a URL pulled through ingest rather
// than a file versioned by its bytes.
func pulledSource(src string) bool {
	return strings.Contains(src, "://") && !strings.HasPrefix(src, "file://")
}

// options are the httpsource options of data.api.
func (a *API) options() httpsource.Options {
	if a == nil {
		return httpsource.Options{}
	}
	o := httpsource.Options{Paginate: a.Paginate, Items: a.Items, HeaderEnv: a.Headers, Rate: a.RateLimit, MaxPages: a.MaxPages, Timeout: a.Timeout}
	if a.Retries != nil {
		o.Retries = *a.Retries
		if o.Retries == 0 {
			o.Retries = -1
		}
	}
	return o
}

// pull reads the project's source whole and versions it as a Parquet
// snapshot of data set p.Data.Dataset (p has its defaults).
func pull(ctx context.Context, env *Env, p *Project) (*dataset.Result, int, error) {
	src := p.Resolve(p.Data.Source)
	shown := ingest.Redact(src)
	f, err := ingest.Read(ctx, src, ingest.Options{API: p.Data.API.options()})
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, err
		}
		return nil, 0, &InputError{Err: fmt.Errorf("pull %s: %w", shown, err)}
	}
	dir, err := os.MkdirTemp("", "gyre-pull-*")
	if err != nil {
		return nil, 0, fmt.Errorf("pull %s: %w", shown, err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "snapshot.parquet")
	if err := ingest.Write(ctx, f, path); err != nil {
		return nil, 0, fmt.Errorf("pull %s: snapshot: %w", shown, err)
	}
	res, err := env.Datasets.Snapshot(ctx, p.Data.Dataset, shown, path)
	if err != nil {
		return nil, 0, fmt.Errorf("pull %s: %w", shown, err)
	}
	return res, f.NumRows(), nil
}

// pulledIngest is the ingest step of a pulled source. The version a run
// pulled is recorded under the run's id, so a run continued step by step
// (Options.ID, a workflow engine) keeps it instead of pulling again.
func (r *runner) pulledIngest(ctx context.Context) (*dataset.Result, string, error) {
	runKey := "pull " + r.res.ID
	var out string
	err := r.env.DB.QueryRowContext(ctx, "SELECT output FROM pipeline_steps WHERE pipeline = ? AND step = 'ingest' AND cache_key = ?", r.p.Name, runKey).Scan(&out)
	if err == nil {
		var io ingestOut
		if err := json.Unmarshal([]byte(out), &io); err == nil {
			v, err := r.env.Datasets.Get(ctx, io.Dataset+"@"+strconv.FormatInt(io.Version, 10))
			if err == nil {
				return &dataset.Result{Version: v}, fmt.Sprintf("pulled earlier in this run: %s (%d rows)", v.Ref(), v.Summary.Rows), nil
			}
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, "", err
	}
	res, rows, err := pull(ctx, r.env, r.p)
	if err != nil {
		return nil, "", err
	}
	body, _ := json.Marshal(ingestOut{Dataset: res.Name, Version: res.Version.Version, Digest: res.Blob.Digest})
	if err := r.env.DB.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pipeline_steps (pipeline, step, cache_key, output, run_id, created_ms) VALUES (?, 'ingest', ?, ?, '', ?)
			ON CONFLICT (pipeline, step, cache_key) DO UPDATE SET output = excluded.output`, r.p.Name, runKey, string(body), time.Now().UnixMilli())
		return err
	}); err != nil {
		return nil, "", err
	}
	what := "unchanged since"
	if res.Created {
		what = "new version"
	}
	return res, fmt.Sprintf("pulled %s: %s %s (%d rows)", ingest.Redact(r.p.Resolve(r.p.Data.Source)), what, res.Version.Ref(), rows), nil
}

// loadSnapshot reads the version the ingest step pulled.
func (r *runner) loadSnapshot(ctx context.Context) (*frame.Frame, error) {
	dir, err := os.MkdirTemp("", "gyre-snapshot-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ref := r.ingest.Dataset + "@" + strconv.FormatInt(r.ingest.Version, 10)
	path := filepath.Join(dir, "snapshot.parquet")
	if _, err := r.env.Datasets.Export(ctx, ref, path); err != nil {
		return nil, err
	}
	return ingest.Read(ctx, path, ingest.Options{})
}

package track_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

type fakeRun struct {
	name    string
	learner string
	auc     float64
	status  track.Status
	team    string
}

var fakeRuns = []fakeRun{
	{"a", "gbdt", 0.95, track.StatusFinished, "x"},
	{"b", "gbdt", 0.85, track.StatusFinished, "y"},
	{"c", "linear", 0.91, track.StatusFinished, "x"},
	{"d", "forest", 0.93, track.StatusFailed, "y"},
	{"e", "GBDT-v2", 0.97, track.StatusFinished, "x"},
}

func seed(t *testing.T, tr *track.Tracker) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, f := range fakeRuns {
		tr.Now = func() time.Time { return base.Add(time.Duration(i) * time.Minute) }
		exp := "exp1"
		if i == 4 {
			exp = "exp2"
		}
		r, err := tr.Start(ctx, track.RunOptions{Experiment: exp, Name: f.name,
			Params: map[string]string{"learner": f.learner}, Tags: map[string]string{"team": f.team}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.LogMetric(ctx, "roc_auc", f.auc, 0); err != nil {
			t.Fatal(err)
		}
		if err := r.End(ctx, f.status); err != nil {
			t.Fatal(err)
		}
	}
}

func names(p *track.Page) string {
	var s []string
	for _, r := range p.Runs {
		s = append(s, r.Name)
	}
	return strings.Join(s, ",")
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := newTracker(t, db)
		seed(t, tr)
		tests := []struct {
			filter string
			order  []string
			exps   []string
			want   string
		}{
			{"", nil, nil, "e,d,c,b,a"},
			{"metrics.roc_auc > 0.9", []string{"metrics.roc_auc"}, nil, "e,a,d,c"},
			{"metrics.roc_auc > 0.9 and params.learner = 'gbdt'", nil, nil, "a"},
			{"metrics.roc_auc >= 0.85 AND params.learner != 'gbdt'", []string{"metrics.roc_auc ASC"}, nil, "c,d,e"},
			{"params.learner LIKE 'gb%'", nil, nil, "b,a"},
			{"params.learner ILIKE 'gb%'", nil, nil, "e,b,a"},
			{"params.learner IN ('linear', 'forest')", []string{"name"}, nil, "c,d"},
			{"tags.team = 'x' and status = 'FINISHED'", []string{"params.learner desc"}, nil, "c,a,e"},
			{"attributes.status != 'FINISHED'", nil, nil, "d"},
			{"metrics.`roc_auc` < 0.9", nil, nil, "b"},
			{"metrics.missing > 0", nil, nil, ""},
			{"", []string{"metrics.roc_auc"}, []string{"exp1"}, "a,d,c,b"},
			{"name = 'c'", nil, nil, "c"},
			// MLflow's documented spellings (docs/source/search-runs.rst).
			{"attributes.`Run Name` IN ('a', 'c') and attributes.run_name != 'a'", nil, nil, "c"},
			{"metrics.'roc_auc' >= 0.95 and params.\"learner\" = \"gbdt\"", nil, nil, "a"},
			{"tags.`team` = 'y' and attributes.Created >= 0", nil, nil, "d,b"},
			{"params.learner = 'x'' OR 1=1 --'", nil, nil, ""},
		}
		for _, tt := range tests {
			p, err := tr.Search(ctx, track.SearchOptions{Filter: tt.filter, OrderBy: tt.order, Experiments: tt.exps})
			if err != nil {
				t.Errorf("Search(%q, %v): %v", tt.filter, tt.order, err)
				continue
			}
			if got := names(p); got != tt.want {
				t.Errorf("Search(%q, %v) = %s; want %s", tt.filter, tt.order, got, tt.want)
			}
		}
		// Pagination walks every run exactly once.
		var all []string
		tok := ""
		for pages := 0; ; pages++ {
			p, err := tr.Search(ctx, track.SearchOptions{Limit: 2, PageToken: tok, OrderBy: []string{"metrics.roc_auc"}})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, names(p))
			if tok = p.NextPageToken; tok == "" || pages > 5 {
				break
			}
		}
		if got := strings.Join(all, "|"); got != "e,a|d,c|b" {
			t.Errorf("pages = %s; want e,a|d,c|b", got)
		}
		if _, err := tr.Search(ctx, track.SearchOptions{PageToken: "garbage"}); err == nil {
			t.Error("a bad page token was accepted")
		}
		runs, _ := tr.Search(ctx, track.SearchOptions{Filter: "name IN ('a', 'b')", OrderBy: []string{"name"}})
		c := track.Compare(runs.Runs)
		if len(c.Metrics) != 1 || c.Metrics[0].Best != 0 || !c.Metrics[0].Differs || len(c.Params) != 1 || c.Params[0].Differs {
			t.Errorf("Compare = %+v", c)
		}
	})
}

func TestParseFilterErrors(t *testing.T) {
	bad := []string{
		"metrics.auc >",
		"metrics.auc > 'high'",
		"params.learner = gbdt",
		"params.trees > '3'",
		"metrics.auc LIKE '0.9%'",
		"foo.bar = 'x'",
		"bogus = 'x'",
		"metrics.auc > 0.9 or params.x = 'y'",
		"params.x = 'unterminated",
		"metrics.auc ! 3",
		"params.x IN ('a' 'b')",
		"metrics.auc > 0.9;",
	}
	for _, s := range bad {
		if f, err := track.ParseFilter(s); err == nil {
			t.Errorf("ParseFilter(%q) = %+v; want an error", s, f)
		}
	}
	good := map[string]int{
		"":                                    0,
		"metrics.auc > 0.9":                   1,
		"metrics.auc>=1e-3 and params.a=='b'": 2,
		"tags.`my tag` <> 'v' and run.status = \"FINISHED\"": 2,
		"params.x NOT IN ('a', 'b')":                         1,
		"metrics.val.loss < -2.5":                            1,
		"start_time > 1700000000000":                         1,
	}
	for s, n := range good {
		f, err := track.ParseFilter(s)
		if err != nil || len(f) != n {
			t.Errorf("ParseFilter(%q) = %d conditions, %v; want %d", s, len(f), err, n)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"metrics.a > 1 and params.b = 'c'", "tags.`x` IN ('a','b')", "status != 'X'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := track.ParseFilter(s); err != nil {
			return
		}
		if _, err := track.ParseFilter(s); err != nil {
			t.Fatal("parse not deterministic")
		}
	})
}

// Concurrency: eight processes (this test binary in helper mode) log runs
// into one store at once; no write may be lost and none may fail.

const (
	helperEnv  = "GYRE_TRACK_TEST_HELPER"
	helperRuns = 15
)

func TestMain(m *testing.M) {
	livenessChildMain()
	if url := os.Getenv(helperEnv); url != "" {
		os.Exit(helperLog(url))
	}
	os.Exit(m.Run())
}

func helperLog(url string) int {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	tr := track.New(db, nil)
	for i := 0; i < helperRuns; i++ {
		r, err := tr.Start(ctx, track.RunOptions{Experiment: "concurrent", Params: map[string]string{"i": strconv.Itoa(i), "pid": strconv.Itoa(os.Getpid())}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		pts := make([]track.Metric, 50)
		for s := range pts {
			pts[s] = track.Metric{Key: "loss", Value: 1 / float64(s+1), Step: int64(s)}
		}
		if err := r.LogMetrics(ctx, pts); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := r.LogMetric(ctx, "auc", 0.5+float64(i)/100, 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := r.End(ctx, track.StatusFinished); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

func TestConcurrentProcesses(t *testing.T) {
	const procs = 8
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := sqlstoretest.Open(t, b) // migrate once up front, like a first CLI call
			cmds := make([]*exec.Cmd, procs)
			outs := make([]*strings.Builder, procs)
			for i := range cmds {
				cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
				cmds[i].Env = append(os.Environ(), helperEnv+"="+b.URL)
				outs[i] = &strings.Builder{}
				cmds[i].Stderr = outs[i]
				if err := cmds[i].Start(); err != nil {
					t.Fatal(err)
				}
			}
			for i, c := range cmds {
				if err := c.Wait(); err != nil {
					t.Errorf("process %d: %v: %s", i, err, outs[i])
				}
			}
			ctx := context.Background()
			var runs, points, finished int
			db.QueryRowContext(ctx, "SELECT COUNT(*) FROM runs").Scan(&runs)
			db.QueryRowContext(ctx, "SELECT COUNT(*) FROM metric_history").Scan(&points)
			db.QueryRowContext(ctx, "SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'").Scan(&finished)
			if runs != procs*helperRuns || finished != runs || points != procs*helperRuns*51 {
				t.Fatalf("runs %d finished %d points %d; want %d, %d, %d", runs, finished, points, procs*helperRuns, procs*helperRuns, procs*helperRuns*51)
			}
		})
	}
}

package ui_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDemoStore checks the Done-when on a real store: a gyre server
// on the store scripts/ui-demo.sh fills (the README's main job: automl and
// train on adult, the bike pipeline run, served traffic with labels) shows
// every page in Chromium, drawn, with no console error and no request to
// another host. It runs only when GYRE_UI_DEMO_URL names the server and
// GYRE_UI_DEMO_TOKEN its admin token (ui-demo.sh prints both):
//
//	GYRE_UI_DEMO_URL=http://127.0.0.1:5000 GYRE_UI_DEMO_TOKEN=gyre_... \
//	  GYRE_UI_SCREENSHOTS=/tmp/demo go test ./internal/web/ui -run TestDemoStore -v
func TestDemoStore(t *testing.T) {
	base, tok := os.Getenv("GYRE_UI_DEMO_URL"), os.Getenv("GYRE_UI_DEMO_TOKEN")
	if base == "" || tok == "" {
		t.Skip("set GYRE_UI_DEMO_URL and GYRE_UI_DEMO_TOKEN to a gyre server on a scripts/ui-demo.sh store")
	}
	d := &demo{t: t, base: strings.TrimSuffix(base, "/"), tok: tok}
	b := newBrowser(t, d.base)
	b.login("admin", tok)
	b.check("experiments")
	var exps struct{ Items []struct{ ID, Name string } }
	d.get("/api/v1/experiments", &exps)
	var automl, train, pipeline string
	for _, x := range exps.Items {
		var page struct {
			Runs []struct {
				ID       string            `json:"run_id"`
				Name     string            `json:"name"`
				ParentID string            `json:"parent_id"`
				Tags     map[string]string `json:"tags"`
			} `json:"runs"`
		}
		d.get("/api/v1/runs?max_results=1000&experiment="+url.QueryEscape(x.Name), &page)
		b.open("runs of "+x.Name, "/experiments/"+x.ID, `document.querySelectorAll('#runs tbody tr').length > 0`)
		b.shot("demo-runs-" + x.Name)
		for _, r := range page.Runs {
			switch {
			case r.Tags["gyre.pipeline"] != "" && r.ParentID == "":
				pipeline = r.ID
			case r.Name == "automl" && r.ParentID == "":
				automl = r.ID
			case r.Name == "train" && r.ParentID == "":
				train = r.ID
			}
		}
	}
	b.check("runs")
	if automl == "" || train == "" || pipeline == "" {
		t.Fatalf("the store lacks an automl run (%q), a train run (%q) or a pipeline run (%q): fill it with scripts/ui-demo.sh", automl, train, pipeline)
	}
	b.open("automl run", "/runs/"+automl, drawn("#leaderboard .chart", 1)+` && document.querySelectorAll('#leaderboard tbody tr').length > 1`)
	if title := eval[string](b, "trajectory", `echarts.getInstanceByDom(document.querySelector('#leaderboard .chart')).getOption().title[0].text`); title != "search trajectory: loss" {
		t.Errorf("the AutoML trajectory is drawn as %q, want the trials' loss", title)
	}
	b.shot("demo-automl")
	b.open("train run", "/runs/"+train, `[...document.querySelectorAll('#run h2')].some((h) => h.textContent === 'Lineage') && document.querySelectorAll('#run table tbody tr').length > 10`)
	b.shot("demo-run")
	b.open("pipeline run", "/runs/"+pipeline, `document.querySelectorAll('#steps tbody tr').length >= 5`)
	b.shot("demo-pipeline")
	b.open("compare", "/compare?runs="+automl+","+train, `document.querySelectorAll('#param-table tr').length > 1`)
	b.shot("demo-compare")
	b.check("runs and compare")
	d.models(b)
	d.data(b)
	b.open("admin", "/admin", `document.querySelectorAll('#admin table[aria-label="Audit trail"] tbody tr').length > 0`)
	b.shot("demo-admin")
	b.check("admin")
}

// demo is the demo store's server, read through its API with the token.
type demo struct {
	t         *testing.T
	base, tok string
}

func (d *demo) get(path string, v any) {
	d.t.Helper()
	req, _ := http.NewRequest("GET", d.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+d.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		d.t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
}

// models opens the models list, each model and its latest version, and
// each served model's production page with its charts drawn.
func (d *demo) models(b *browser) {
	var models struct {
		Items []struct {
			Name    string           `json:"name"`
			Latest  int              `json:"latest_version"`
			Aliases map[string]int64 `json:"aliases"`
		}
	}
	d.get("/api/v1/models", &models)
	b.open("models", "/models", `document.querySelectorAll('#models tbody tr').length === `+strconv.Itoa(len(models.Items)))
	b.shot("demo-models")
	for _, m := range models.Items {
		b.open("model "+m.Name, "/models/"+m.Name, `document.querySelectorAll('#model table[aria-label=Versions] tbody tr').length === `+strconv.Itoa(m.Latest))
		b.shot("demo-model-" + m.Name)
		b.open("version of "+m.Name, "/models/"+m.Name+"/versions/"+strconv.Itoa(m.Latest), drawn("#importance", 1)+` && document.querySelectorAll('#lineage .node').length >= 3`)
		b.shot("demo-version-" + m.Name)
	}
	b.open("production", "/production", `document.querySelectorAll('#production tbody tr').length > 0 && document.querySelectorAll('#pipelines tbody tr').length > 0`)
	b.shot("demo-production")
	served := "adult-income" // the model ui-demo.sh serves
	b.open("production of "+served, "/production/"+served+"?days=14&step=1m&goal=roc_auc+%3E%3D+0.85&goal=p99_latency+%3C%3D+20ms",
		drawn("#volume", 1)+" && "+drawn("#drift-heat", 1)+" && "+drawn("#performance", 1)+" && "+drawn("#latency", 1))
	b.shot("demo-monitoring")
	b.check("models and production")
}

// data opens the data sets list and each data set.
func (d *demo) data(b *browser) {
	var sets struct{ Items []struct{ Name string } }
	d.get("/api/v1/datasets", &sets)
	b.open("data", "/data", `document.querySelectorAll('#datasets tbody tr').length === `+strconv.Itoa(len(sets.Items)))
	b.shot("demo-data")
	for _, s := range sets.Items {
		b.open("data set "+s.Name, "/data/"+url.PathEscape(s.Name), drawn("#missing-chart", 1))
		b.shot("demo-dataset-" + s.Name)
	}
	b.check("data")
}

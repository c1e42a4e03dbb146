package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/registry"
)

// chromiumPath finds Debian's chromium (GYRE_CHROMIUM overrides).
func chromiumPath() string {
	if p := os.Getenv("GYRE_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("chromium")
	return p
}

// browser is one headless Chromium with a tab, recording what every page
// does wrong: console errors, uncaught exceptions and requests to any host
// but the server.
type browser struct {
	t    testing.TB
	ctx  context.Context
	base string
	dir  string // screenshots

	mu       sync.Mutex
	problems []string
	allow    []string // substrings of expected errors (a 403 the test asks for)
}

func newBrowser(t testing.TB, base string) *browser {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		t.Skip("browser tests need Chromium (apt-get install chromium, or GYRE_CHROMIUM=path): skipped")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("no-pings", true), chromedp.Flag("disable-default-apps", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t, base: base, dir: shotDir(t)}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	t.Cleanup(func() { cancel(); cancelA() })
	b.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	return b
}

func (b *browser) listen(ev any) {
	var p string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			p = "console.error: " + strings.Join(parts, " ")
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p = fmt.Sprintf("exception: %s %s:%d", d.Text, d.URL, d.LineNumber)
		if d.Exception != nil {
			p += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			p = "log error: " + ev.Entry.Text + " " + ev.Entry.URL
		}
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		if !strings.HasPrefix(u, b.base) && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") && u != "about:blank" {
			p = "request to another host: " + u
		}
	}
	if p == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range b.allow {
		if strings.Contains(p, a) {
			return
		}
	}
	b.problems = append(b.problems, p)
}

// check fails the test with every problem seen so far, and clears them.
func (b *browser) check(step string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("%s: %s", step, p)
	}
	b.problems = nil
}

// waitLimit bounds every browser step: generous, since CI runs this test
// on 2 cores beside the rest of the suite, and a step that is met returns
// at once (steps wait on conditions, never for a fixed time).
const waitLimit = 2 * time.Minute

func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLimit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + step)
		b.t.Fatalf("%s: %v", step, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise).
func eval[T any](b *browser, step, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.shot("failed-" + step)
		b.t.Fatalf("%s: evaluate %s: %v", step, expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is true, across page
// loads (an evaluation during a navigation fails and is retried).
func (b *browser) waitFor(step, pred string) {
	b.t.Helper()
	deadline := time.Now().Add(waitLimit)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+pred+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond) // poll interval, not a wait for an event
	}
	b.shot("failed-" + step)
	b.t.Fatalf("%s: waiting for %s: %v", step, pred, last)
}

func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

func (b *browser) open(step, path, ready string) {
	b.t.Helper()
	b.do(step, chromedp.Navigate(b.base+path))
	b.waitFor(step, ready)
	if _, isTest := b.t.(*testing.T); isTest {
		for _, p := range eval[[]string](b, step+" accessibility", a11yCheck) {
			b.t.Errorf("%s: accessibility: %s", step, p)
		}
		for _, scheme := range []string{"dark", "light"} {
			b.do(step+" "+scheme, setScheme(scheme))
			for _, p := range eval[[]string](b, step+" contrast", contrastCheck) {
				b.t.Errorf("%s: contrast (%s theme): %s", step, scheme, p)
			}
		}
		for _, p := range b.keyboardCheck(step) {
			b.t.Errorf("%s: keyboard: %s", step, p)
		}
	}
}

// a11yCheck lists a page's accessibility basics that fail: the document
// language, a main landmark and one h1, a name for every form control
// (label, aria-label or aria-labelledby), button and link, and a role and
// name for every chart.
const a11yCheck = `(() => { const out = [];
  if (!document.documentElement.lang) out.push('html has no lang');
  if (!document.querySelector('main')) out.push('no main landmark');
  if (document.querySelectorAll('h1').length !== 1) out.push(document.querySelectorAll('h1').length + ' h1 elements');
  const named = (e) => (e.getAttribute('aria-label') || '').trim() || e.getAttribute('aria-labelledby') || (e.labels && e.labels.length) || (e.textContent || '').trim() || e.title;
  for (const e of document.querySelectorAll('input:not([type=hidden]), select, textarea')) if (!named(e) || (e.tagName !== 'SELECT' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby') && !e.title)) out.push('unlabelled ' + e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : ''));
  for (const e of document.querySelectorAll('button, a[href]')) if (!named(e)) out.push('unnamed ' + e.tagName.toLowerCase() + ' ' + (e.getAttribute('href') || e.outerHTML.slice(0, 60)));
  for (const e of document.querySelectorAll('.chart')) if (e.getAttribute('role') !== 'img' || !e.getAttribute('aria-label')) out.push('chart without role=img and a label');
  return out; })()`

// drawn is a predicate: the ECharts canvases inside sel exist and have
// painted pixels (not only that the page loaded).
func drawn(sel string, min int) string {
	return fmt.Sprintf(`(() => { const cs = [...document.querySelectorAll(%q)]; if (cs.length < %d) return false;
	  return cs.every((c) => { const g = c.getContext('2d'); const d = g.getImageData(0, 0, c.width, c.height).data;
	    let n = 0; for (let i = 3; i < d.length; i += 16) if (d[i] > 0) n++; return n > 200; }); })()`, sel+" canvas", min)
}

func (b *browser) login(name, password string) {
	b.t.Helper()
	b.open("login page", "/experiments", `location.pathname === '/login' && !!document.querySelector('#password')`)
	b.shot("login")
	b.do("log in as "+name, chromedp.SetValue(chromedp.ID("name"), name), chromedp.SetValue(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")))
	b.waitFor("logged in as "+name, `location.pathname === '/experiments' && document.querySelectorAll('#experiments table tbody tr').length > 0`)
}

// TestBrowser drives the UI in headless Chromium on a seeded store: log in,
// filter runs, open a run, compare two runs and see both curves drawn,
// promote a version and see the audit row, and as a viewer see no promote
// button and get 403 from the API; no page logs an error or asks another
// host for anything.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	s := e.seed()
	e.seedProduction(7)
	b := newBrowser(t, e.URL)

	b.login("alice", "password-of-alice")
	b.shot("experiments")
	b.check("experiments")

	// The checks themselves: text too faint, a control without a focus
	// ring and one that Tab cannot reach are each caught.
	b.do("bad markup", chromedp.Evaluate[chromedp.Void](`document.getElementById('main').insertAdjacentHTML('beforeend',
	  '<p style="color:#999;background:#fff">faint</p><button type="button" style="outline:none;box-shadow:none">ringless</button><a href="#x" tabindex="2">jumps</a>')`))
	if got := fmt.Sprint(eval[[]string](b, "contrast self-check", contrastCheck)); !strings.Contains(got, `"faint": 2.85:1`) {
		t.Errorf("the contrast check misses #999 on white (2.85:1): %s", got)
	}
	if got := fmt.Sprint(b.keyboardCheck("keyboard self-check")); !strings.Contains(got, "no visible focus on button") || !strings.Contains(got, "positive tabindex") {
		t.Errorf("the keyboard check misses a ringless button or a positive tabindex: %s", got)
	}

	browseRuns(t, e, b, s)
	browsePaging(t, e, b)
	browseModels(t, e, b, s)
	browseProduction(t, e, b, s)
	browseAdmin(t, e, b, s)
	browseAsViewer(t, e, b, s)
}

// browseRuns checks the runs table, its filter and shared URLs, a run and an AutoML search.
func browseRuns(t *testing.T, e *env, b *browser, s *seeded) {
	// Runs: the table, then a filter (kept in the URL), then a bad filter.
	b.open("runs", "/experiments/"+s.experimentID, `document.querySelectorAll('#runs tbody tr').length === 15`)
	b.shot("runs")
	b.do("filter runs", chromedp.SetValue(chromedp.ID("filter"), "params.learner = 'gbdt' and metrics.valid_roc_auc > 0.815"),
		chromedp.Submit(chromedp.ID("filter")))
	b.waitFor("filtered runs", `document.querySelectorAll('#runs tbody tr').length === 2`)
	if u := eval[string](b, "filter url", `location.search`); !strings.Contains(u, "filter=params.learner") {
		t.Errorf("the filter is not in the URL: %q", u)
	}
	b.mu.Lock()
	b.allow = append(b.allow, "status of 400")
	b.mu.Unlock()
	b.do("bad filter", chromedp.SetValue(chromedp.ID("filter"), "metrics.x >>> 1"), chromedp.Submit(chromedp.ID("filter")))
	b.waitFor("bad filter message", `!document.getElementById('filter-error').hidden && document.getElementById('filter-error').textContent.length > 0`)
	b.check("runs")
	b.mu.Lock()
	b.allow = nil
	b.mu.Unlock()

	// A shared URL gives the same view: sorted, filtered, with columns.
	b.open("shared runs url", "/experiments/"+s.experimentID+"?filter="+strings.ReplaceAll("params.learner = 'random_forest'", " ", "+")+"&order=metrics.%60valid_roc_auc%60+ASC&cols=metrics.valid_roc_auc,params.learning_rate",
		`document.querySelectorAll('#runs tbody tr').length === 4`)
	if v := eval[bool](b, "sorted", `(() => { const cells = [...document.querySelectorAll('#runs tbody tr')].map((r) => parseFloat(r.cells[5].textContent)); return cells.every((v, i) => i === 0 || cells[i-1] <= v); })()`); !v {
		t.Error("the runs are not sorted ascending by valid_roc_auc")
	}
	b.check("shared runs url")

	// A run: metric charts drawn, the report inline, a markdown note saved.
	b.open("run", "/runs/"+s.runs[0], drawn("#metric-charts .chart", 2)+` && !!document.querySelector('iframe.report')`)
	b.do("edit note", chromedp.Click(chromedp.ID("note-edit-btn")),
		chromedp.SetValue(chromedp.ID("note-edit"), "# Findings\n\n**lr 0.05** wins; <script>alert(1)</script>"),
		chromedp.Click(chromedp.ID("note-save")))
	b.waitFor("note saved", `!!document.querySelector('#note-view h2') && document.querySelector('#note-view strong').textContent === 'lr 0.05'`)
	if n := eval[int](b, "note safe", `document.querySelectorAll('#note-view script').length`); n != 0 {
		t.Error("the note's <script> became an element")
	}
	got, err := e.tr.Get(context.Background(), s.runs[0])
	if err != nil || !strings.HasPrefix(got.Tags["mlflow.note.content"], "# Findings") {
		t.Errorf("note not stored as mlflow.note.content: %v %q", err, got.Tags["mlflow.note.content"])
	}
	b.shot("run")
	b.check("run")

	// The AutoML search: leaderboard and trajectory.
	b.open("automl run", "/runs/"+s.search, drawn("#leaderboard .chart", 1)+` && document.querySelectorAll('#leaderboard tbody tr').length === 6`)
	b.shot("automl")
	b.check("automl")

}

// browsePaging pages through 250 runs: Older carries the keyset token in
// the URL (after=), Newer goes back by the tokens walked, and a shared URL
// of a deep page shows the same runs.
func browsePaging(t *testing.T, e *env, b *browser) {
	expID := bulkRuns(t, e, "paged", 250)
	first := func(name string) string {
		return fmt.Sprintf(`document.querySelectorAll('#runs tbody tr').length > 0 && document.querySelector('#runs tbody tr').cells[1].textContent === %q`, name)
	}
	b.open("paged runs", "/experiments/"+expID, first("run-249")+` && document.querySelectorAll('#runs tbody tr').length === 100`)
	b.do("older", chromedp.Click(chromedp.ID("next")))
	b.waitFor("page 2", first("run-149")+` && location.search.includes('after=')`)
	b.do("older again", chromedp.Click(chromedp.ID("next")))
	b.waitFor("page 3", first("run-49")+` && document.querySelectorAll('#runs tbody tr').length === 50 && document.getElementById('next').disabled`)
	shared := eval[string](b, "page 3 url", `location.pathname + location.search`)
	b.do("newer", chromedp.Click(chromedp.ID("prev")))
	b.waitFor("back to page 2", first("run-149")+` && location.search.includes('after=') && document.getElementById('page-no').textContent === 'page 2'`)
	b.open("shared deep page", shared, first("run-49"))
	b.open("page by number", "/experiments/"+expID+"?page=2", first("run-149"))
	b.check("paging")
}

// browseModels checks comparing runs, promoting a version, a version's page.
func browseModels(t *testing.T, e *env, b *browser, s *seeded) {
	// Compare two runs: both curves overlaid on each metric's chart.
	b.open("compare", "/compare?runs="+s.runs[0]+","+s.runs[5], drawn("#curves .chart", 2)+" && "+drawn("#compare .chart.tall", 2))
	series := eval[int](b, "curve series", `echarts.getInstanceByDom(document.querySelector('#curves .chart[data-metric=valid_roc_auc]')).getOption().series.filter((s) => s.data.length === 40).length`)
	if series != 2 {
		t.Errorf("valid_roc_auc chart has %d curves of 40 steps, want 2", series)
	}
	if n := eval[int](b, "param diffs", `document.querySelectorAll('#param-table tr.diff').length`); n != 3 {
		t.Errorf("%d parameters marked different, want 3 (learner, learning_rate, num_leaves)", n)
	}
	b.shot("compare")
	b.check("compare")

	// Models: promote version 2 to @production with the confirmation, then
	// see the audit row.
	b.open("models", "/models", `document.querySelectorAll('#models tbody tr').length === 1`)
	b.shot("models")
	b.open("model", "/models/titanic", `document.querySelectorAll('button.promote').length === 2`)
	b.do("promote", chromedp.Click(chromedp.CSS(`button.promote[data-version="2"]`)))
	b.waitFor("confirmation", `!!document.querySelector('dialog[open] #dlg-input')`)
	b.shot("promote-confirm")
	b.do("confirm", chromedp.Click(chromedp.ID("dlg-ok")))
	b.waitFor("audit row", `[...document.querySelectorAll('#model-audit tbody tr')].some((r) => r.textContent.includes('model.alias.set') && r.textContent.includes('alice'))`)
	if v, err := e.reg.Resolve(context.Background(), "titanic@production"); err != nil || v.Version != 2 {
		t.Errorf("titanic@production after promote: %v %v", v, err)
	}
	b.shot("model")
	b.check("model")

	// A version page: importance drawn, input schema, lineage.
	b.open("version", "/models/titanic/versions/2", drawn("#importance", 1)+` && document.querySelectorAll('#lineage .node').length >= 3`)
	// The evaluation plots training logged: ROC and precision-recall drawn,
	// and the confusion matrix counting every row of titanic's test file.
	b.waitFor("evaluation plots", drawn("#eval-plots .chart", 3))
	cm := eval[[]float64](b, "confusion", `echarts.getInstanceByDom(document.getElementById('eval-confusion')).getOption().series[0].data.map((c) => c[2])`)
	total := 0.0
	for _, v := range cm {
		total += v
	}
	if len(cm) != 4 || total != float64(titanicTestRows(t)) {
		t.Errorf("confusion matrix cells %v: want 4 cells counting the %d test rows", cm, titanicTestRows(t))
	}
	if n := eval[int](b, "roc points", `echarts.getInstanceByDom(document.getElementById('eval-roc')).getOption().series[0].data.length`); n < 10 {
		t.Errorf("the ROC curve has %d points", n)
	}
	if txt := eval[string](b, "no contract", `document.getElementById('version-contract').textContent`); !strings.Contains(txt, "Trained outside a pipeline") {
		t.Errorf("the contract section of a version trained outside a pipeline reads %q", txt)
	}
	b.shot("version")
	b.check("version")

	// A version a pipeline's train step made: the contract its validate
	// step checked, and the alias linking to the production page.
	if _, err := e.reg.Register(context.Background(), "titanic", registry.RegisterOptions{Bundle: bytes.NewReader(titanicBundle(t)), RunID: s.pipeTrain}); err != nil {
		t.Fatal(err)
	}
	b.open("pipeline version", "/models/titanic/versions/3", `document.querySelectorAll('#version-contract table[aria-label="Contract findings"] tbody tr').length === 2`)
	if txt := eval[string](b, "contract", `document.getElementById('version-contract').textContent`); !strings.Contains(txt, "Contract contract.yaml: broken") || !strings.Contains(txt, "missing_share") {
		t.Errorf("the version's data contract reads %q", txt)
	}
	b.open("deployed version", "/models/titanic/versions/2", `!!document.querySelector('#lineage a.alias')`)
	if href := eval[string](b, "deployment link", `document.querySelector('#lineage a.alias').getAttribute('href')`); href != "/production/titanic?version=2" {
		t.Errorf("the @production node links to %q", href)
	}
	b.check("pipeline version")

}

// browseProduction checks monitoring, schedules and a pipeline run.
func browseProduction(t *testing.T, e *env, b *browser, s *seeded) {
	// Production: volume, the drift heat strip and performance with the
	// goal drawn; Age and Fare drift on the last four days only.
	// Latency over time: today's requests, served by gyre serve's server
	// (the week before was logged without latencies, as an old log).
	live := e.serveTraffic(24)
	b.open("monitoring", "/production/titanic?days=14&goal=roc_auc+%3E%3D+0.85&goal=p99_latency+%3C%3D+10ms", drawn("#volume", 1)+" && "+drawn("#drift-heat", 1)+" && "+drawn("#performance", 1)+" && "+drawn("#latency", 1))
	lat := eval[[]float64](b, "latency chart", `(() => { const o = echarts.getInstanceByDom(document.getElementById('latency')).getOption();
	  const s = (n) => o.series.find((x) => x.name === n);
	  const timed = s('p99').data.filter((p) => p[1] !== null);
	  return [timed.length, timed.length ? timed[timed.length - 1][1] : -1, s('requests').data.reduce((a, p) => a + p[1], 0), s('p99').markLine.data[0].yAxis]; })()`)
	if len(lat) != 4 || lat[0] < 1 || lat[1] <= 0 || lat[2] < float64(live.requests) || lat[3] != 10 {
		t.Errorf("latency chart [timed buckets, last p99 ms, requests, p99 goal] = %v: want at least 1 bucket with a positive p99, at least the %d requests served, the goal at 10 ms", lat, live.requests)
	}
	heat := eval[[]float64](b, "drift cells", `(() => { const o = echarts.getInstanceByDom(document.getElementById('drift-heat')).getOption();
	  const f = o.yAxis[0].data; const a = f.indexOf('Age'), s = f.indexOf('Sex');
	  const v = (x, y) => { const c = o.series[0].data.find((d) => d[0] === x && d[1] === y); return c && c[2] !== '-' ? c[2] : -1; };
	  return [v(0, a), v(6, a), v(6, s), o.xAxis[0].data.length]; })()`)
	if len(heat) != 4 || heat[3] != 7 || heat[0] >= 1 || heat[1] <= 1 || heat[2] >= 1 {
		t.Errorf("drift heat strip [Age day 1, Age day 7, Sex day 7, days] = %v: want Age under 1 then over 1, Sex under 1, 7 days", heat)
	}
	if n := eval[int](b, "goal line", `echarts.getInstanceByDom(document.getElementById('performance')).getOption().series[0].markLine.data.length`); n < 1 {
		t.Error("the performance chart has no goal line")
	}
	b.shot("monitoring")
	b.open("production", "/production", `document.querySelectorAll('#production tbody tr').length === 1 && document.querySelectorAll('#pipelines tbody tr').length === 1 && document.querySelectorAll('#schedules tbody tr').length === 1`)
	if txt := eval[string](b, "schedules", `document.querySelector('#schedules tbody tr').textContent`); !strings.Contains(txt, "0 3 * * *") || !strings.Contains(txt, "03:00:00") || !strings.Contains(txt, "5m0s") {
		t.Errorf("the schedules table reads %q: want the cron, its next time at 03:00 and the poll", txt)
	}
	b.shot("production")
	// A pipeline run: its steps, the gate's reason, the triggers it ran
	// under, and the validate step's contract findings and drift.
	b.open("pipeline run", "/runs/"+s.pipeline, `document.querySelectorAll('#steps tbody tr').length === 5 && document.querySelectorAll('table[aria-label="Contract findings"] tbody tr').length > 0 && document.querySelectorAll('table[aria-label="Drift against production"] tbody tr').length > 0`)
	if txt := eval[string](b, "gate", `document.querySelector('#steps tbody tr:last-child').textContent`); !strings.Contains(txt, "rejected") || !strings.Contains(txt, "gain -0.005") {
		t.Errorf("the gate step reads %q: want the rejection and its reason", txt)
	}
	if n := eval[int](b, "run triggers", `document.querySelectorAll('#run-triggers li').length`); n != 2 {
		t.Errorf("the pipeline run lists %d triggers, want 2 (schedule, new data)", n)
	}
	b.shot("pipeline")
	b.check("production")

}

// browseAdmin checks the data pages, the admin page and its writes.
func browseAdmin(t *testing.T, e *env, b *browser, s *seeded) {
	// Data and admin.
	b.open("data", "/data", `document.querySelectorAll('#datasets tbody tr').length === 1`)
	b.open("dataset", "/data/titanic", drawn("#missing-chart", 1)+` && document.querySelectorAll('#validations table[aria-label="Contract findings"] tbody tr').length > 0`)
	b.shot("dataset")
	b.open("admin", "/admin", `[...document.querySelectorAll('#admin tbody tr')].some((r) => r.textContent.includes('model.alias.set'))`)
	b.shot("admin")
	b.check("data and admin")

	// Admin writes: make an account, a token (its secret shown once),
	// grant a role on a model, revoke the token; each lands in the audit
	// trail and in the access store.
	b.do("new account", chromedp.SetValue(chromedp.ID("acc-name"), "dana"), chromedp.SetValue(chromedp.ID("acc-role"), "editor"),
		chromedp.SetValue(chromedp.ID("acc-password"), "password-of-dana"), chromedp.Click(chromedp.ID("acc-create")))
	b.waitFor("account made", `[...document.querySelectorAll('#admin table[aria-label=Accounts] tbody tr')].some((r) => r.cells[0].textContent === 'dana' && r.textContent.includes('editor'))`)
	b.do("new token", chromedp.Click(chromedp.CSS(`button.new-token[data-account="dana"]`)))
	b.waitFor("token dialog", `!!document.querySelector('dialog[open] #dlg-expires_in')`)
	b.do("make token", chromedp.SetValue(chromedp.ID("dlg-description"), "ci deploys"), chromedp.Click(chromedp.ID("dlg-ok")))
	b.waitFor("secret shown", `!!document.querySelector('dialog[open] #token-secret') && document.getElementById('token-secret').textContent.startsWith('gyre_')`)
	secret := eval[string](b, "secret", `document.getElementById('token-secret').textContent`)
	b.shot("admin-token")
	b.do("close secret", chromedp.Click(chromedp.ID("token-done")))
	b.waitFor("token listed", `[...document.querySelectorAll('#admin table[aria-label=Tokens] tbody tr')].some((r) => r.textContent.includes('ci deploys') && r.textContent.includes('active'))`)
	if p, err := e.acc.AuthenticateToken(context.Background(), secret); err != nil || p.Name != "dana" {
		t.Errorf("the token shown does not authenticate as dana: %v %v", p, err)
	}
	b.do("grant", chromedp.Click(chromedp.CSS(`button.grant-role[data-account="dana"]`)))
	b.waitFor("grant dialog", `!!document.querySelector('dialog[open] #dlg-resource')`)
	b.do("grant admin on titanic", chromedp.SetValue(chromedp.ID("dlg-resource"), "model:titanic"), chromedp.SetValue(chromedp.ID("dlg-role"), "admin"), chromedp.Click(chromedp.ID("dlg-ok")))
	b.waitFor("grant shown", `[...document.querySelectorAll('#admin table[aria-label=Accounts] tbody tr')].some((r) => r.cells[0].textContent === 'dana' && r.textContent.includes('admin on model:titanic'))`)
	eval[bool](b, "revoke token", `(() => { [...document.querySelectorAll('#admin table[aria-label=Tokens] tbody tr')].find((r) => r.textContent.includes('ci deploys')).querySelector('button.revoke-token').click(); return true; })()`)
	b.waitFor("revoke confirmation", `!!document.querySelector('dialog[open] #dlg-ok')`)
	b.do("confirm revoke", chromedp.Click(chromedp.ID("dlg-ok")))
	b.waitFor("audit rows", `['account.create', 'token.create', 'grant.set', 'token.revoke'].every((a) => [...document.querySelectorAll('#admin table[aria-label="Audit trail"] tbody tr')].some((r) => r.textContent.includes(a) && r.textContent.includes('alice')))`)
	if _, err := e.acc.AuthenticateToken(context.Background(), secret); err == nil {
		t.Error("the revoked token still authenticates")
	}
	b.shot("admin")
	b.check("admin writes")

}

// browseAsViewer checks what a viewer sees and may do.
func browseAsViewer(t *testing.T, e *env, b *browser, s *seeded) {
	// A viewer: no promote button, and the API refuses the write.
	b.do("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	b.waitFor("logged out", `location.pathname === '/login'`)
	b.login("vic", "password-of-vic")
	b.open("model as viewer", "/models/titanic", `document.querySelectorAll('#model table[aria-label=Versions] tbody tr').length === 3`)
	if n := eval[int](b, "promote buttons", `document.querySelectorAll('button.promote, button.archive').length`); n != 0 {
		t.Errorf("a viewer sees %d promote/archive buttons", n)
	}
	if n := eval[int](b, "admin link", `document.querySelectorAll('a[href="/admin"]').length`); n != 0 {
		t.Error("a viewer sees the Admin link")
	}
	b.mu.Lock()
	b.allow = append(b.allow, "status of 403")
	b.mu.Unlock()
	code := eval[int](b, "viewer write", `fetch('/api/v1/models/titanic/aliases/production', {method: 'PUT', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({version: 1})}).then((r) => r.status)`)
	if code != 403 {
		t.Errorf("a viewer's alias move: %d, want 403", code)
	}
	b.shot("model-viewer")
	b.check("viewer")
}

// titanicTestRows counts the rows of titanic's test file.
func titanicTestRows(t *testing.T) int {
	f, err := ingest.Read(context.Background(), titanicTest, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f.NumRows()
}

// newBenchBrowser is the benchmarks' browser.
func newBenchBrowser(b *testing.B, base string) *browser { return newBrowser(b, base) }

// clearCache empties the browser's HTTP cache, so a load is a first load.
func clearCache() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCache, cdp.Empty{})
		return chromedp.Void{}, err
	}
}

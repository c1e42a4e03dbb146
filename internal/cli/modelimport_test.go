package cli

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"github.com/gyre-ml/gyre/internal/mlflowmodel"
	"github.com/gyre-ml/gyre/internal/modelimport"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/serve"
)

const importDir = "../../testdata/modelimport"

// An imported XGBoost model registers, predicts through the registry
// reference as the original did, serves over the MLflow protocol and
// monitors against the reference profile stored at import.
func TestModelsImport(t *testing.T) {
	dir := isolate(t)
	out := filepath.Join(dir, "penguins.gyre")
	code, stdout, errs := runCLI(t, "models", "import", filepath.Join(importDir, "xgb_multi.ubj"), "--target", "species",
		"--classes", "Adelie,Chinstrap,Gentoo", "--out", out, "--register", "penguins-xgb",
		"--reference", filepath.Join(importDir, "penguins.csv"), "--json")
	if code != 0 {
		t.Fatalf("import exit %d: %s %s", code, stdout, errs)
	}
	var res modelimport.Report
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Format != "xgboost-ubj" || res.Registered != "penguins-xgb/1" || res.Trees != 30 || len(res.Features) != 4 {
		t.Errorf("import result %+v", res)
	}

	preds := filepath.Join(dir, "p.csv")
	if code, _, errs := runCLI(t, "predict", "penguins-xgb", filepath.Join(importDir, "penguins.csv"), "--out", preds); code != 0 {
		t.Fatalf("predict exit %d: %s", code, errs)
	}
	got := readCSV(t, preds)
	want := readCSV(t, filepath.Join(importDir, "xgb_multi.pred.csv"))
	if len(got) != len(want) || strings.Join(got[0], ",") != "prediction,proba_Adelie,proba_Chinstrap,proba_Gentoo" {
		t.Fatalf("predictions: %d rows, header %v", len(got), got[0])
	}
	for i := 1; i < len(got); i++ {
		for c := range 3 {
			g, _ := strconv.ParseFloat(got[i][1+c], 64)
			w, _ := strconv.ParseFloat(want[i][3+c], 64)
			if math.Abs(g-w) > 1e-6 {
				t.Fatalf("row %d class %d: %v, xgboost %v", i, c, g, w)
			}
		}
	}

	// Served like a native bundle.
	b, err := bundle.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New([]serve.Model{{Name: "penguins", Ref: out, Bundle: b}}, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	body := `{"dataframe_split": {"columns": ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"], "data": [[39.1, 18.7, 181, 3750], [NaN, NaN, NaN, NaN]]}}`
	resp, err := ts.Client().Post(ts.URL+"/invocations", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != 200 {
		t.Fatalf("invocations: %d %v %v", resp.StatusCode, answer, err)
	}
	if p, _ := answer["predictions"].([]any); len(p) != 2 || p[0] != "Adelie" {
		t.Errorf("invocations answer %v", answer)
	}

	// Monitored against the reference stored at import: the same rows do
	// not drift.
	code, stdout, errs = runCLI(t, "monitor", out, "--current", filepath.Join(importDir, "penguins.csv"), "--json")
	if code != 0 || !strings.Contains(stdout, "drift") {
		t.Fatalf("monitor exit %d: %s %s", code, stdout, errs)
	}
}

// A file that is not a model is a usage error naming the file and the
// formats tried; a bad --format or --register name is refused first.
func TestModelsImportBadInput(t *testing.T) {
	dir := isolate(t)
	junk := filepath.Join(dir, "junk.json")
	if err := os.WriteFile(junk, []byte(`{"not": "a model"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// a real model cut short: refused, with no bundle left at --out
	whole, err := os.ReadFile(filepath.Join(importDir, "xgb_reg.json"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "xgb_cut.json")
	if err := os.WriteFile(cut, whole[:len(whole)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"models", "import", junk},
		{"models", "import", filepath.Join(importDir, "pima.csv")},
		{"models", "import", cut, "--out", filepath.Join(dir, "c.gyre")},
		{"models", "import", filepath.Join(importDir, "xgb_reg.json"), "--format", "pickle"},
		{"models", "import", filepath.Join(importDir, "xgb_reg.json"), "--register", "../evil"},
		{"models", "import", filepath.Join(dir, "absent.json")},
	} {
		code, _, errs := runCLI(t, args...)
		if code != ExitUsage || !strings.Contains(errs, filepath.Base(args[2])) && !strings.Contains(errs, args[len(args)-1]) {
			t.Errorf("%v: exit %d, %s", args, code, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c.gyre")); err == nil {
		t.Error("a refused import left a bundle behind")
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// An imported model exports as an MLflow model directory; a second export
// to the same directory is refused.
func TestExportMLflow(t *testing.T) {
	dir := isolate(t)
	model := filepath.Join(dir, "reg.gyre")
	if code, _, errs := runCLI(t, "models", "import", filepath.Join(importDir, "xgb_reg.json"), "--target", "mpg", "--out", model); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	out := filepath.Join(dir, "reg-mlflow")
	code, stdout, errs := runCLI(t, "export", model, "--format", "mlflow", "--out", out, "--check", filepath.Join(importDir, "auto_mpg.csv"), "--json")
	if code != 0 {
		t.Fatalf("export exit %d: %s %s", code, stdout, errs)
	}
	var res mlflowmodel.Report
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Check == nil || !res.Check.OK || res.ExampleRows != 5 || len(res.Outputs) != 1 || res.Outputs[0].Name != "variable" {
		t.Errorf("export result %+v", res)
	}
	for _, f := range []string{"MLmodel", "model.onnx", "conda.yaml", "python_env.yaml", "requirements.txt", "input_example.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if code, _, errs := runCLI(t, "export", model, "--format", "mlflow", "--out", out); code != ExitUsage || !strings.Contains(errs, "already exists") {
		t.Errorf("second export: exit %d, %s", code, errs)
	}
}

// 'gyre data convert' and 'gyre predict --out' write PostgreSQL tables
// (GYRE_TEST_POSTGRES; .ci/run starts a server) that read back whole.
func TestPostgresTableOutput(t *testing.T) {
	url := os.Getenv("GYRE_TEST_POSTGRES")
	if url == "" {
		t.Skip("GYRE_TEST_POSTGRES not set")
	}
	dir := isolate(t)
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	rows, preds := url+"&table=gyre_cli_rows_"+suffix, url+"&table=gyre_cli_preds_"+suffix
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Cleanup(func() {
		db.Exec("DROP TABLE IF EXISTS gyre_cli_rows_" + suffix)
		db.Exec("DROP TABLE IF EXISTS gyre_cli_preds_" + suffix)
	})
	if code, _, errs := runCLI(t, "data", "convert", filepath.Join(importDir, "pima.csv"), rows); code != 0 {
		t.Fatalf("convert exit %d: %s", code, errs)
	}
	model := filepath.Join(dir, "pima.gyre")
	if code, _, errs := runCLI(t, "models", "import", filepath.Join(importDir, "xgb_binary.json"), "--target", "class", "--out", model); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	// Predict from the table just written into another table.
	if code, _, errs := runCLI(t, "predict", model, rows, "--out", preds); code != 0 {
		t.Fatalf("predict exit %d: %s", code, errs)
	}
	var n int
	var p1 float64
	if err := db.QueryRow("SELECT count(*), max(proba_1) FROM gyre_cli_preds_"+suffix).Scan(&n, &p1); err != nil {
		t.Fatal(err)
	}
	want := readCSV(t, filepath.Join(importDir, "xgb_binary.pred.csv"))
	best := 0.0
	for _, r := range want[1:] {
		v, _ := strconv.ParseFloat(r[1], 64)
		best = max(best, v)
	}
	if n != 154 || math.Abs(p1-best) > 1e-6 {
		t.Errorf("predictions table: %d rows, max P(1) %v (xgboost %v)", n, p1, best)
	}
	// A table that exists is not overwritten.
	if code, _, errs := runCLI(t, "data", "convert", filepath.Join(importDir, "pima.csv"), rows); code == 0 {
		t.Errorf("convert over an existing table succeeded: %s", errs)
	}
}

// A categorical XGBoost model imported with --levels predicts from the
// category names as XGBoost did from their codes; a malformed --levels is
// exit 2 naming the flag.
func TestModelsImportCategoricalLevels(t *testing.T) {
	dir := isolate(t)
	out := filepath.Join(dir, "cat.gyre")
	code, stdout, errs := runCLI(t, "models", "import", filepath.Join(importDir, "xgb_onehot.json"), "--target", "species",
		"--levels", "island=Biscoe,Dream,Torgersen", "--levels", "sex=FEMALE,MALE", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("import exit %d: %s %s", code, stdout, errs)
	}
	preds := filepath.Join(dir, "p.csv")
	if code, _, errs := runCLI(t, "predict", out, filepath.Join(importDir, "penguins_cat.csv"), "--out", preds); code != 0 {
		t.Fatalf("predict exit %d: %s", code, errs)
	}
	got, want := readCSV(t, preds), readCSV(t, filepath.Join(importDir, "xgb_onehot.pred.csv"))
	if len(got) != len(want) {
		t.Fatalf("%d prediction rows, %d reference rows", len(got), len(want))
	}
	for i := 1; i < len(got); i++ {
		for c := range 3 {
			g, _ := strconv.ParseFloat(got[i][1+c], 64)
			w, _ := strconv.ParseFloat(want[i][3+c], 64)
			if math.Abs(g-w) > 1e-6 {
				t.Fatalf("row %d class %d: %v, xgboost %v", i, c, g, w)
			}
		}
	}
	if code, _, errs := runCLI(t, "models", "import", filepath.Join(importDir, "xgb_onehot.json"), "--levels", "island"); code != 2 || !strings.Contains(errs, "--levels") {
		t.Errorf("--levels island: exit %d: %s", code, errs)
	}
}

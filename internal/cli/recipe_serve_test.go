package cli

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/serve"
)

// TestAutoMLRecipeServesRawRows: `gyre automl --recipe` puts the fitted
// recipe in the bundle, and the served model answers raw client rows (a
// " MALE" the recipe normalises, a missing age it imputes, free-text
// columns it drops) with the classes `gyre predict` gives for the same raw
// rows: the client prepares nothing.
func TestAutoMLRecipeServesRawRows(t *testing.T) {
	dir := isolate(t)
	model := filepath.Join(dir, "r.gyre")
	code, _, errs := runCLI(t, "automl", titanicTrain, "--target", "Survived", "--recipe", "../../examples/recipes/titanic.yaml",
		"--trials", "6", "--seed", "1", "--out", model, "--json")
	if code != 0 {
		t.Fatalf("automl exit %d: %s", code, errs)
	}
	b, err := bundle.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if b.Recipe == nil {
		t.Fatal("the bundle carries no recipe")
	}
	rows := "Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n" +
		"3,\"Doe, Mr. John\", MALE,,1,0,A/5 21171,7.25,,S\n" +
		"1,\"Roe, Mrs. Jane\",female,30,0,0,PC 17599,80,B5,C\n"
	raw := filepath.Join(dir, "raw.csv")
	if err := os.WriteFile(raw, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	pred := filepath.Join(dir, "p.csv")
	if code, _, errs := runCLI(t, "predict", model, raw, "--out", pred); code != 0 {
		t.Fatalf("predict exit %d: %s", code, errs)
	}
	want, err := os.ReadFile(pred)
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New([]serve.Model{{Name: "titanic", Bundle: b, Version: "1"}}, serve.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/invocations", "text/csv", strings.NewReader(rows))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("serve: status %d: %s", resp.StatusCode, body)
	}
	var got struct {
		Predictions []any `json:"predictions"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("serve answer %s: %v", body, err)
	}
	lines := strings.Split(strings.TrimSpace(string(want)), "\n")
	if len(got.Predictions) != 2 || len(lines) != 3 {
		t.Fatalf("served %v, predicted %q", got.Predictions, lines)
	}
	for i, p := range got.Predictions {
		if first := strings.Split(lines[i+1], ",")[0]; first != toText(p) {
			t.Errorf("row %d: served %v, gyre predict %q", i+1, p, lines[i+1])
		}
	}
	if toText(got.Predictions[0]) != "0" || toText(got.Predictions[1]) != "1" {
		t.Errorf("predictions %v: want the third-class man to die and the first-class woman to live", got.Predictions)
	}
}

// toText formats a served prediction (a class as a string or a number).
func toText(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

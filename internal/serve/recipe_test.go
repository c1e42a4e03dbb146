package serve

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/train"
)

// TestServeRecipeBundle: a model trained with a recipe (drop, normalise,
// impute, cap, log, one-hot, scale) answers raw client rows: the recipe in
// the bundle prepares them, so " MALE" and a missing age need nothing from
// the client, and the answer is the one predict gives.
func TestServeRecipeBundle(t *testing.T) {
	f, err := ingest.Read(context.Background(), titanic+".train.csv", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := feature.LoadRecipe("../../examples/recipes/titanic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := train.NewProblemWith(f, "Survived", 0, train.ProblemOptions{Recipe: &r})
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Fit(context.Background(), p, train.Options{Learner: "gbdt", Params: map[string]string{"n_estimators": "30"}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if b, err = bundle.Decode(data); err != nil || b.Recipe == nil || b.Manifest.Format != bundle.FormatVersion {
		t.Fatalf("decoded bundle: recipe %v, format %d, err %v", b != nil && b.Recipe != nil, b.Manifest.Format, err)
	}
	s, err := New([]Model{{Name: "titanic", Bundle: b, Version: "1"}}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, s)
	raw := `{"records": [{"Pclass": 3, "Name": "Doe, Mr. John", "Sex": " MALE", "Age": null, "SibSp": 1, "Parch": 0, "Ticket": "A/5 21171", "Fare": 7.25, "Cabin": null, "Embarked": "S"},
		{"Pclass": 1, "Sex": "female", "Age": 30, "SibSp": 0, "Parch": 0, "Fare": 80, "Cabin": "B5", "Embarked": "C"}]}`
	code, out := post(t, ts.URL+"/v1/models/titanic/predict", "application/json", raw)
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, out)
	}
	preds, _ := out["predictions"].([]any)
	if len(preds) != 2 || preds[0] != "0" || preds[1] != "1" {
		t.Errorf("predictions %v: want the third-class man to die and the first-class woman to live", out["predictions"])
	}
	// A column the recipe needs is still required, and named.
	code, out = post(t, ts.URL+"/v1/models/titanic/predict", "application/json", `{"records": [{"Pclass": 1, "Sex": "female"}]}`)
	if code != http.StatusBadRequest {
		t.Errorf("incomplete row: status %d %v, want 400", code, out)
	}
}

package feature

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestRecipeFiles(t *testing.T) {
	p, err := LoadRecipe(filepath.Join("..", "..", "testdata", "feature", "titanic.good.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Target != "Survived" || len(p.Steps) != 8 || p.Steps[3].(*Impute).Strategy != "median" || !p.Steps[3].(*Impute).Indicators {
		t.Errorf("parsed %+v", p)
	}
	tests := []struct {
		file string
		line int
		text string
	}{
		{"typo-step.bad.yml", 5, `"onehott"`},
		{"typo-key.bad.yml", 5, "indicator"},
		{"wrong-type.bad.yml", 5, "many"},
		{"unknown-top.bad.yml", 2, "stepz"},
	}
	for _, tt := range tests {
		_, err := LoadRecipe(filepath.Join("..", "..", "testdata", "feature", tt.file))
		var re *RecipeError
		if !errors.As(err, &re) {
			t.Errorf("%s: got %v, want a RecipeError", tt.file, err)
			continue
		}
		if re.Line != tt.line && !strings.Contains(err.Error(), ":"+strconv.Itoa(tt.line)) {
			t.Errorf("%s: line %d (%v), want %d", tt.file, re.Line, err, tt.line)
		}
		t.Logf("%s: %v", tt.file, err)
		if !strings.Contains(err.Error(), tt.text) {
			t.Errorf("%s: %v does not mention %s", tt.file, err, tt.text)
		}
	}
}

// FuzzParseRecipe: any input parses or fails with an error, never a panic;
// a parsed recipe survives a JSON round trip.
func FuzzParseRecipe(f *testing.F) {
	f.Add([]byte("target: y\nsteps:\n  - step: impute\n    strategy: mean\n"))
	f.Add([]byte("steps:\n  - step: onehot\n    max_categories: 3\n    columns: [a]\n"))
	f.Add([]byte("roles: {id: id}\nsteps: []\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseRecipe(data, "fuzz.yaml")
		if err != nil {
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			return // e.g. a NaN parameter: JSON has no NaN
		}
		var back Pipeline
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("round trip: %v\n%s", err, b)
		}
	})
}

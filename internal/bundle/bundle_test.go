package bundle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/tree"
)

// rows builds a small mixed frame with a target and missing values.
func rows() *frame.Frame {
	n := 200
	x := make([]float64, n)
	valid := frame.NewValidity(n)
	cat := make([]string, n)
	y := make([]string, n)
	for i := range x {
		x[i] = float64(i%37) / 3
		cat[i] = []string{"red", "green", "blue"}[i%3]
		if (x[i] > 5) != (cat[i] == "blue") {
			y[i] = "yes"
		} else {
			y[i] = "no"
		}
		if i%19 == 0 {
			valid.SetNull(i)
		}
	}
	f := frame.MustNew(&frame.Float{ColName: "x", Values: x, Valid: valid}, frame.NewCategorical("colour", cat, nil), frame.NewCategorical("label", y, nil))
	_ = f.SetRole("label", frame.RoleTarget)
	return f
}

// labels codes the label column of rows(): yes 1, no 0.
func labels(f *frame.Frame) []float64 {
	yc, _ := f.Column("label")
	y := make([]float64, f.NumRows())
	for i := range y {
		if yc.Format(i) == "yes" {
			y[i] = 1
		}
	}
	return y
}

func fitted(t *testing.T, family string) *bundle.Bundle {
	t.Helper()
	f := rows()
	prep, X, err := bundle.FitPrep(f, family)
	if err != nil {
		t.Fatal(err)
	}
	y := labels(f)
	l, _ := learn.New("decision_tree")
	m, err := l.Fit(context.Background(), &learn.Dataset{X: X, Features: prep.Features(), Task: learn.Binary, Y: y, Classes: []string{"no", "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	sch, _ := f.Select("x", "colour")
	return &bundle.Bundle{
		Manifest: bundle.Manifest{Task: learn.Binary, Target: "label", Classes: []string{"no", "yes"}, Input: sch.Schema(), GyreVersion: "test"},
		Members:  []bundle.Member{{Info: bundle.MemberInfo{Learner: "decision_tree", Family: family, Weight: 1}, Prep: prep, Model: m}},
		Profile:  []byte(`{"rows":200}`),
	}
}

func TestSaveLoadPredictsIdentically(t *testing.T) {
	for _, family := range []string{bundle.FamilyTrees, bundle.FamilyLinear} {
		t.Run(family, func(t *testing.T) {
			b := fitted(t, family)
			p1, err := b.Predict(rows())
			if err != nil {
				t.Fatal(err)
			}
			got, p2 := saveLoadPredict(t, b)
			for i := range p1.Proba {
				if p1.Proba[i] != p2.Proba[i] && !(math.IsNaN(p1.Proba[i]) && math.IsNaN(p2.Proba[i])) {
					t.Fatalf("probability %d changed after save/load: %v vs %v", i, p1.Proba[i], p2.Proba[i])
				}
			}
			if got.Manifest.Format != bundle.FormatVersion || got.Manifest.Target != "label" || string(got.Profile) != `{"rows":200}` {
				t.Errorf("manifest/profile not preserved: %+v", got.Manifest)
			}
			acc := 0
			yc, _ := rows().Column("label")
			for i := range p1.Values {
				if p1.Label(i) == yc.Format(i) {
					acc++
				}
			}
			if float64(acc)/float64(len(p1.Values)) < 0.9 {
				t.Errorf("training accuracy %d/%d", acc, len(p1.Values))
			}
		})
	}
}

func TestCorruptBundles(t *testing.T) {
	b := fitted(t, bundle.FamilyTrees)
	data, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty":     {},
		"truncated": data[:len(data)/2],
		"garbage":   []byte(strings.Repeat("not a bundle ", 50)),
	}
	// Flip one byte inside a stored (deflated) entry: the checksum or the
	// zip CRC must catch it.
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/3] ^= 0xff
	cases["flipped"] = flipped
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := bundle.Decode(bad)
			if err == nil {
				t.Fatal("decoded a damaged bundle")
			}
			if name != "flipped" && !errors.Is(err, bundle.ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
		})
	}
	if _, err := bundle.Load(filepath.Join(t.TempDir(), "missing.gyre")); err == nil || !os.IsNotExist(errors.Unwrap(err)) && !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file error = %v", err)
	}
}

func TestPredictChecksInputColumns(t *testing.T) {
	b := fitted(t, bundle.FamilyTrees)
	f, _ := rows().Drop("colour")
	_, err := b.Predict(f)
	if err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("missing input column error = %v, want it to name colour", err)
	}
}

func TestSaveIsAtomic(t *testing.T) {
	b := fitted(t, bundle.FamilyTrees)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gyre")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("save left temporary files: %v", entries)
	}
	if err := b.Save(filepath.Join(dir, "no-such-dir", "m.gyre")); err == nil {
		t.Error("save into a missing directory succeeded")
	}
}

// TestTemperature checks a calibrated bundle: probabilities are the
// uncalibrated ones scaled by learn.ScaleProba on both prediction paths, the
// temperature survives save/load as format 2 (format 1 without one), labels
// do not change, and a damaged temperature is refused.
func TestTemperature(t *testing.T) {
	plain := fitted(t, bundle.FamilyTrees)
	base, err := plain.Predict(rows())
	if err != nil {
		t.Fatal(err)
	}
	b := fitted(t, bundle.FamilyTrees)
	b.Manifest.Temperature = 0.5
	got, p := saveLoadPredict(t, b)
	if got.Manifest.Format != bundle.FormatVersion || got.Manifest.Temperature != 0.5 {
		t.Fatalf("format %d temperature %v after save/load, want format 4 and 0.5", got.Manifest.Format, got.Manifest.Temperature)
	}
	want := append([]float64(nil), base.Proba...)
	learn.ScaleProba(want, 2, 0.5)
	sharper := 0
	for i := range want {
		if math.Abs(p.Proba[i]-want[i]) > 1e-12 {
			t.Fatalf("probability %d = %v, want the scaled %v", i, p.Proba[i], want[i])
		}
		if i%2 == 1 && math.Abs(p.Proba[i]-0.5) > math.Abs(base.Proba[i]-0.5)+1e-12 {
			sharper++
		}
	}
	if sharper == 0 {
		t.Error("temperature 0.5 sharpened no probability")
	}
	for i := range base.Values {
		if p.Values[i] != base.Values[i] {
			t.Fatalf("row %d: label changed from %v to %v by calibration", i, base.Values[i], p.Values[i])
		}
	}
	checkRows(t, got, rows())

	// A damaged temperature in a stored manifest is refused on load.
	data, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	bad := rewriteEntry(t, data, "manifest.json", func(m []byte) []byte {
		return bytes.Replace(m, []byte(`"temperature": 0.5`), []byte(`"temperature": -1`), 1)
	})
	if _, err := bundle.Decode(bad); !errors.Is(err, bundle.ErrCorrupt) || !strings.Contains(err.Error(), "temperature -1") {
		t.Errorf("loading temperature -1: %v", err)
	}

	b.Manifest.Temperature = -1
	if err := b.Save(filepath.Join(t.TempDir(), "bad.gyre")); err == nil || !strings.Contains(err.Error(), "temperature") {
		t.Errorf("saving temperature -1: %v", err)
	}
}

// rewriteEntry returns the zip archive data with entry name replaced by
// edit of its contents (a nil result drops the entry); an edit that leaves
// the entry as it was fails the test.
func rewriteEntry(t *testing.T, data []byte, name string, edit func([]byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			orig := bytes.Clone(content)
			if content = edit(content); content == nil {
				continue
			}
			if bytes.Equal(content, orig) {
				t.Fatalf("rewriteEntry: %s unchanged", name)
			}
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestMemberTemperature checks a member's own temperature: applied to its
// probabilities before the bundle's, on both prediction paths, stored as
// format 2, and refused when damaged.
func TestMemberTemperature(t *testing.T) {
	base, err := fitted(t, bundle.FamilyTrees).Predict(rows())
	if err != nil {
		t.Fatal(err)
	}
	b := fitted(t, bundle.FamilyTrees)
	b.Members[0].Info.Temperature = 0.5
	b.Members[0].Info.Smoothing = 0.01
	b.Manifest.Temperature = 1.5
	got, p := saveLoadPredict(t, b)
	if got.Manifest.Format != bundle.FormatVersion || got.Members[0].Info.Temperature != 0.5 || got.Members[0].Info.Smoothing != 0.01 {
		t.Fatalf("format %d member temperature %v after save/load", got.Manifest.Format, got.Members[0].Info.Temperature)
	}
	want := append([]float64(nil), base.Proba...)
	learn.CalibrateProba(want, 2, 0.5, 0.01)
	learn.ScaleProba(want, 2, 1.5)
	for i := range want {
		if math.Abs(p.Proba[i]-want[i]) > 1e-12 {
			t.Fatalf("probability %d = %v, want %v (member then bundle temperature)", i, p.Proba[i], want[i])
		}
	}
	checkRows(t, got, rows())

	b.Members[0].Info.Temperature = math.Inf(1)
	if err := b.Save(filepath.Join(t.TempDir(), "bad.gyre")); err == nil || !strings.Contains(err.Error(), "temperature") {
		t.Errorf("saving an infinite member temperature: %v", err)
	}
}

// saveLoadPredict saves b, loads it back and predicts rows() with the loaded
// bundle.
func saveLoadPredict(t *testing.T, b *bundle.Bundle) (*bundle.Bundle, *bundle.Prediction) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gyre")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := bundle.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := got.Predict(rows())
	if err != nil {
		t.Fatal(err)
	}
	return got, p
}

package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// module is Gyre's module path; package names below are relative to it.
const module = "github.com/gyre-ml/gyre"

// layers is the one table of package layers (DESIGN.md §2, refined): a
// package imports only packages of a lower layer, or of its own layer and
// family (the first path element under internal/: learn/forest may import
// learn/tree, ingest may import ingest/parquetio; Go already forbids the
// cycles). A layer is a number with an optional letter that orders
// packages inside a layer of the design: 1b sits above 1 (= 1a).
//
// Names ending in "/..." cover a directory tree. Names of packages that do
// not exist yet are registered ahead for the helpers adding them; give a
// new package its row here and in docs/ARCHITECTURE.md.
var layers = map[string]string{
	"internal/parallel":        "0", // the one parallel for-loop over index ranges
	"internal/awscred":         "0", // the AWS credential chain blob and ingest share
	"internal/frame":           "0",
	"internal/frame/frametest": "0",
	"internal/metric":          "0b", // silhouette runs on parallel

	"internal/ingest":                 "1",
	"internal/ingest/parquetio":       "1",
	"internal/ingest/arrowipc":        "1",
	"internal/ingest/avro":            "1",
	"internal/ingest/sqlsource":       "1",
	"internal/ingest/binnum":          "1", // half floats and two's-complement decimals the binary readers share
	"internal/ingest/docframe":        "1", // typed columns from self-typed documents (BSON, JSON messages)
	"internal/ingest/mongosource":     "1",
	"internal/ingest/kafkasource":     "1",
	"internal/ingest/cassandrasource": "1",
	"internal/ingest/httpsource":      "1",
	"internal/profile":                "1",
	"internal/feature":                "1",
	"internal/blob":                   "1",
	"internal/blob/blobtest":          "1",
	"internal/sqlstore":               "1",
	"internal/sqlstore/sqlstoretest":  "1",
	"internal/validate":               "1b", // drift tests take a profile as their reference
	"internal/dataprep":               "1c", // the data commands' file work: feature's splits and recipes written through ingest

	"internal/learn":           "2",
	"internal/learn/all":       "2",
	"internal/learn/bayes":     "2",
	"internal/learn/dense":     "2",
	"internal/learn/forest":    "2",
	"internal/learn/gbdt":      "2",
	"internal/learn/kmeans":    "2",
	"internal/learn/knn":       "2",
	"internal/learn/svm":       "2",
	"internal/learn/learntest": "2",
	"internal/learn/linear":    "2",
	"internal/learn/mlp":       "2",
	"internal/learn/tree":      "2",
	"internal/audit":           "2",
	"internal/bundle":          "2b", // the artifact holds fitted learn.Models

	"internal/automl":              "3",
	"internal/track":               "3",
	"internal/registry":            "3",
	"internal/dataset":             "3",
	"internal/report":              "3", // pages over metric, profile and validate values; monitor renders through it
	"internal/onnx":                "3",
	"internal/onnx/onnxpb":         "3",
	"internal/access":              "3",
	"internal/score":               "3", // streams a source through a bundle: ingest + bundle
	"internal/predlog":             "3", // the prediction log serve writes and monitor reads: bundle + parquetio + blob + sqlstore
	"internal/predlog/predlogtest": "3",
	"internal/predlog/streamlog":   "3",  // the prediction log published to an ingest destination (kafka://)
	"internal/train":               "3b", // Search runs automl
	"internal/train/traintest":     "3b", // real bundles for tests: ingest + train
	"internal/trainlog":            "3b", // a training command's run, trials, bundle and registration: automl, bundle, track, registry, dataset
	"internal/modelimport":         "3b", // XGBoost, LightGBM and ONNX models as bundles: bundle + gbdt + onnx
	"internal/mlflowmodel":         "3b", // MLflow model directories around the ONNX export: bundle + onnx + profile
	"internal/study":               "3c", // the preliminary study fits through train
	"internal/governance":          "3b", // PII masking of predlog batches and frames

	"internal/serve":     "4",
	"internal/monitor":   "4",
	"internal/pipeline":  "4b", // projects watch their model: triggers.on_alert runs monitor
	"internal/mlflowapi": "4",
	"internal/retention": "4",  // gc: composes track, registry and predlog
	"internal/distrib":   "4c", // runs pipeline steps as activities
	"internal/trainrun":  "4d", // a training command end to end: train, trainlog, monitor's reference, distrib's engine

	"internal/web":       "5",
	"internal/web/ui":    "5b", // the pages: mounted on web's server
	"internal/apiclient": "5b", // the client of web's /api/v1, returning the stores' own types
	"internal/workspace": "5c", // the local stores or a team server (apiclient) behind one set of interfaces
	"internal/serverun":  "5d", // gyre serve end to end: workspace's models and stores, serve, predlog, monitor's gauges

	"internal/cli": "6",

	"cmd/gyre":          "7",
	"bench/...":         "7", // benchmark programs
	"deploy":            "7", // deployment manifests and their tests
	"internal/archtest": "7", // this test
}

// forbidden are module paths the default build must not depend on, and why.
var forbidden = []struct{ prefix, why string }{
	{"github.com/gorilla/mux", "a second HTTP router (net/http's ServeMux routes; fasthttp is the one extra transport)"},
	{"github.com/go-chi/chi", "a second HTTP router"},
	{"github.com/gin-gonic/gin", "a second HTTP router"},
	{"github.com/labstack/echo", "a second HTTP router"},
	{"github.com/julienschmidt/httprouter", "a second HTTP router"},
	{"github.com/fasthttp/router", "a second HTTP router"},
	{"github.com/json-iterator/go", "a second JSON library (encoding/json is the one)"},
	{"github.com/goccy/go-json", "a second JSON library"},
	{"github.com/mailru/easyjson", "a second JSON library"},
	{"github.com/bytedance/sonic", "a second JSON library"},
}

// pkg is the part of `go list -json` these tests read.
type pkg struct {
	ImportPath string
	Standard   bool
	CgoFiles   []string
	Imports    []string
	Deps       []string
	Module     *struct{ Path string }
}

// goList runs `go list -json args...` at the module root and decodes the
// stream of packages. CGO_ENABLED=1 so files that need cgo are listed as
// such rather than silently left out of the build.
func goList(t *testing.T, args ...string) []pkg {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("archtest needs the go command on PATH: %v", err)
	}
	cmd := exec.Command(goBin, append([]string{"list", "-json"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list: decode: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// layerOf returns the layer of a package path relative to the module.
func layerOf(rel string) (string, bool) {
	if l, ok := layers[rel]; ok {
		return l, true
	}
	for name, l := range layers {
		if tree, ok := strings.CutSuffix(name, "/..."); ok && strings.HasPrefix(rel, tree+"/") {
			return l, true
		}
	}
	return "", false
}

// below reports whether layer a is lower than layer b ("1" < "1b" < "2").
func below(a, b string) bool {
	pad := func(s string) string {
		if len(s) == 1 {
			return s + "a"
		}
		return s
	}
	return pad(a) < pad(b)
}

// family is a package's first path element under internal/ (or at the root).
func family(rel string) string {
	rel = strings.TrimPrefix(rel, "internal/")
	f, _, _ := strings.Cut(rel, "/")
	return f
}

func TestLayerTableIsWellFormed(t *testing.T) {
	valid := regexp.MustCompile(`^[0-7][a-z]?$`)
	for name, l := range layers {
		if !valid.MatchString(l) {
			t.Errorf("layer %q of %s: want a digit 0-7 and an optional letter", l, name)
		}
	}
}

func TestImportsRespectLayers(t *testing.T) {
	for _, p := range goList(t, "./...") {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue
		}
		lp, ok := layerOf(rel)
		if !ok {
			t.Errorf("package %s is not in the layer table: add it with its layer to internal/archtest/layers_test.go and to the table in docs/ARCHITECTURE.md", rel)
			continue
		}
		for _, imp := range p.Imports {
			irel, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			li, ok := layerOf(irel)
			if !ok {
				continue // reported as its own package
			}
			if below(li, lp) || (li == lp && family(irel) == family(rel)) {
				continue
			}
			t.Errorf("%s (layer %s) imports %s (layer %s): a package imports only lower layers (or its own family in its layer); move the code or change a layer in the table", rel, lp, irel, li)
		}
	}
}

func TestNoForbiddenDependencies(t *testing.T) {
	all := goList(t, "-deps", "./...")
	var ours []pkg
	for _, p := range all {
		if strings.HasPrefix(p.ImportPath, module+"/") || p.ImportPath == module {
			ours = append(ours, p)
		}
	}
	// via names one of our packages that pulls dep in, for the message.
	via := func(dep string) string {
		for _, p := range ours {
			if slices.Contains(p.Imports, dep) {
				return p.ImportPath + " imports it"
			}
		}
		for _, p := range ours {
			if slices.Contains(p.Deps, dep) {
				return p.ImportPath + " depends on it"
			}
		}
		return "reached from the module"
	}
	for _, p := range all {
		if p.Standard {
			continue // net and os/user use cgo when it is enabled: the toolchain's choice, not a dependency
		}
		if len(p.CgoFiles) > 0 {
			t.Errorf("%s uses cgo (%s) and is in the default build (%s): the default build is pure Go", p.ImportPath, strings.Join(p.CgoFiles, ", "), via(p.ImportPath))
		}
		if p.Module == nil {
			continue
		}
		for _, f := range forbidden {
			if p.Module.Path == f.prefix || strings.HasPrefix(p.Module.Path, f.prefix+"/") {
				t.Errorf("%s (module %s) is in the default build (%s): %s", p.ImportPath, p.Module.Path, via(p.ImportPath), f.why)
			}
		}
	}
}

// TestArchitectureDocMatches checks that docs/ARCHITECTURE.md's layer table
// gives every package the layer the table above gives it, and names every
// package that exists.
func TestArchitectureDocMatches(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]string{} // package (relative to the module) → layer in the doc
	inTable := false
	tick := regexp.MustCompile("`([a-z0-9_/.]+)`")
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "| layer | package") {
			inTable = true
			continue
		}
		if !inTable {
			continue
		}
		if !strings.HasPrefix(text, "|") {
			break
		}
		cells := strings.Split(text, "|")
		if len(cells) < 4 || strings.HasPrefix(cells[1], "---") {
			continue
		}
		layer := strings.TrimSpace(cells[1])
		for _, m := range tick.FindAllStringSubmatch(cells[2], -1) {
			name := m[1]
			if name != "cmd/gyre" && name != "deploy" && !strings.HasPrefix(name, "bench/") {
				name = "internal/" + name
			}
			named[name] = layer
			want, ok := layers[name]
			switch {
			case !ok:
				t.Errorf("docs/ARCHITECTURE.md:%d names %s, which the layer table in internal/archtest/layers_test.go lacks", line, name)
			case want != layer:
				t.Errorf("docs/ARCHITECTURE.md:%d puts %s in layer %s, internal/archtest/layers_test.go in %s", line, name, layer, want)
			}
		}
	}
	if len(named) == 0 {
		t.Fatal("docs/ARCHITECTURE.md: no layer table (a line starting \"| layer | package\")")
	}
	for _, p := range goList(t, "./...") {
		rel, ok := strings.CutPrefix(p.ImportPath, module+"/")
		if !ok {
			continue
		}
		if _, ok := named[rel]; ok {
			continue
		}
		if strings.HasPrefix(rel, "bench/") {
			if _, ok := named["bench/..."]; ok {
				continue
			}
		}
		t.Errorf("package %s exists but docs/ARCHITECTURE.md's layer table does not name it", rel)
	}
}

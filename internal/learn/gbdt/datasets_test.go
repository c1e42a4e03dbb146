package gbdt

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSharedDatasets fits the default learner on every shared data set and
// prints its test metric next to scikit-learn HistGradientBoosting's default
// (from the peer baselines). It runs only with GBDT_DATASETS set (a
// directory, e.g. /work/shared/datasets), because it takes minutes:
//
//	GBDT_DATASETS=/work/shared/datasets go test ./internal/learn/gbdt -run SharedDatasets -v -timeout 30m
func TestSharedDatasets(t *testing.T) {
	root := os.Getenv("GBDT_DATASETS")
	if root == "" {
		t.Skip("set GBDT_DATASETS to the shared data set directory")
	}
	base := readBaselines(filepath.Join(root, "..", "bench", "BASELINES.md"))
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "manifest.json"))
	fmt.Println("| data set | metric | Gyre gbdt | HistGB | Gyre better | fit s |")
	fmt.Println("|---|---|---|---|---|---|")
	wins, total := 0, 0
	for _, mpath := range dirs {
		dir := filepath.Dir(mpath)
		train, test, man, err := loadSplit(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		l := New()
		l.Seed = 1
		t0 := time.Now()
		m, err := l.FitModel(context.Background(), train)
		if err != nil {
			t.Errorf("%s: %v", man.Name, err)
			continue
		}
		fit := time.Since(t0).Seconds()
		s, err := score(m, test, man.Metric)
		if err != nil {
			t.Errorf("%s: %v", man.Name, err)
			continue
		}
		hgb, ok := base[man.Name]
		better := ""
		if ok {
			total++
			if (man.Metric == "roc_auc" && s >= hgb) || (man.Metric != "roc_auc" && s <= hgb) {
				wins++
				better = "yes"
			} else {
				better = "no"
			}
		}
		fmt.Printf("| %s | %s | %.4f | %.4f | %s | %.1f |\n", man.Name, man.Metric, s, hgb, better, fit)
	}
	fmt.Printf("\nGyre gbdt at least as good as HistGB on %d of %d data sets\n", wins, total)
}

// readBaselines returns the HistGB column of BASELINES.md by data set.
func readBaselines(path string) map[string]float64 {
	out := map[string]float64{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 5 {
			continue
		}
		name := strings.TrimSpace(cells[1])
		fields := strings.Fields(cells[3])
		if len(fields) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(fields[0], 64); err == nil {
			out[name] = v
		}
	}
	return out
}

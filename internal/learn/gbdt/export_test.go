package gbdt

import "github.com/gyre-ml/gyre/internal/learn"

// LoadExampleSplit exposes the test CSV loader to the external example.
func LoadExampleSplit(dir string) (train, test *learn.Dataset, err error) {
	train, test, _, err = loadSplit(dir)
	return train, test, err
}

// ScoreAUC exposes the ROC-AUC scorer to the external example.
func ScoreAUC(m *Model, d *learn.Dataset) (float64, error) { return score(m, d, "roc_auc") }

package gbdt_test

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// Fit the default gbdt learner on the Titanic training split (categorical
// columns such as Sex and Embarked are split natively, missing ages need no
// imputation) and score the held-out test split.
func Example() {
	train, test, err := gbdt.LoadExampleSplit(filepath.Join("..", "..", "..", "examples", "data", "titanic"))
	if err != nil {
		fmt.Println(err)
		return
	}
	l := gbdt.New()
	l.Seed = 1
	m, err := l.FitModel(context.Background(), train)
	if err != nil {
		fmt.Println(err)
		return
	}
	auc, _ := gbdt.ScoreAUC(m, test)
	fmt.Printf("trees: %d\n", m.NumTrees())
	fmt.Printf("test ROC-AUC above 0.85: %v\n", auc > 0.85)
	// Output:
	// trees: 100
	// test ROC-AUC above 0.85: true
}

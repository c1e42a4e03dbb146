package metric_test

import (
	"fmt"

	"github.com/gyre-ml/gyre/internal/metric"
)

func Example() {
	y := []float64{0, 0, 1, 1, 1}
	proba := []float64{ // row-major n×2
		0.9, 0.1,
		0.4, 0.6,
		0.35, 0.65,
		0.2, 0.8,
		0.7, 0.3,
	}
	m, _ := metric.Default(metric.Binary)
	auc, _ := m.Score(metric.Input{Y: y, Proba: proba, K: 2})
	fmt.Printf("%s = %.4f (higher is better: %v)\n", m.Name, auc, m.HigherIsBetter)

	f1, _ := metric.LookupTask(metric.Binary, "f1")
	v, _ := f1.Score(metric.Input{Y: y, Proba: proba, K: 2})
	fmt.Printf("f1 = %.4f\n", v)

	_, err := metric.LookupTask(metric.Regression, "f1")
	fmt.Println(err)
	// Output:
	// roc_auc = 0.8333 (higher is better: true)
	// f1 = 0.6667
	// metric "f1" does not apply to regression tasks (valid: rmse, mse, mae, r2, mape, rmsle)
}

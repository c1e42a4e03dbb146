package metric

import (
	"fmt"
	"math"
)

func checkReg(op string, y, p, w []float64) error {
	if err := checkPair(op, y, p, w); err != nil {
		return err
	}
	if err := checkFinite(op, "target", y); err != nil {
		return err
	}
	return checkFinite(op, "prediction", p)
}

// wmean returns the weighted mean of f(i) over the rows.
func wmean(n int, w []float64, f func(i int) float64) float64 {
	s, t := 0.0, 0.0
	for i := 0; i < n; i++ {
		wi := weight(w, i)
		s += wi * f(i)
		t += wi
	}
	return s / t
}

// MAE is the (weighted) mean absolute error.
func MAE(y, pred, w []float64) (float64, error) {
	if err := checkReg("mae", y, pred, w); err != nil {
		return 0, err
	}
	return wmean(len(y), w, func(i int) float64 { return math.Abs(y[i] - pred[i]) }), nil
}

// MSE is the (weighted) mean squared error.
func MSE(y, pred, w []float64) (float64, error) {
	if err := checkReg("mse", y, pred, w); err != nil {
		return 0, err
	}
	return wmean(len(y), w, func(i int) float64 { d := y[i] - pred[i]; return d * d }), nil
}

// RMSE is the square root of MSE.
func RMSE(y, pred, w []float64) (float64, error) {
	v, err := MSE(y, pred, w)
	if err != nil {
		return 0, fmt.Errorf("rmse: %w", err)
	}
	return math.Sqrt(v), nil
}

// R2 is the coefficient of determination 1 - SS_res/SS_tot with weighted
// sums. A constant target gives 1 for a perfect fit and 0 otherwise
// (scikit-learn's force_finite=True).
func R2(y, pred, w []float64) (float64, error) {
	if err := checkReg("r2", y, pred, w); err != nil {
		return 0, err
	}
	mean := wmean(len(y), w, func(i int) float64 { return y[i] })
	res, tot := 0.0, 0.0
	for i := range y {
		wi := weight(w, i)
		res += wi * (y[i] - pred[i]) * (y[i] - pred[i])
		tot += wi * (y[i] - mean) * (y[i] - mean)
	}
	if tot == 0 {
		if res == 0 {
			return 1, nil
		}
		return 0, nil
	}
	return 1 - res/tot, nil
}

// MAPE is the (weighted) mean of |y - pred| / max(|y|, ε), ε the float64
// machine epsilon, as a fraction (not a percentage), as scikit-learn's
// mean_absolute_percentage_error.
func MAPE(y, pred, w []float64) (float64, error) {
	if err := checkReg("mape", y, pred, w); err != nil {
		return 0, err
	}
	const eps = 0x1p-52
	return wmean(len(y), w, func(i int) float64 { return math.Abs(y[i]-pred[i]) / max(math.Abs(y[i]), eps) }), nil
}

// RMSLE is the root mean squared error between log(1+y) and log(1+pred).
// Negative targets or predictions are an error, as in scikit-learn.
func RMSLE(y, pred, w []float64) (float64, error) {
	const op = "rmsle"
	if err := checkReg(op, y, pred, w); err != nil {
		return 0, err
	}
	for i := range y {
		if y[i] < 0 || pred[i] < 0 {
			return 0, fmt.Errorf("%s: row %d has target %v and prediction %v, want both non-negative", op, i+1, y[i], pred[i])
		}
	}
	return math.Sqrt(wmean(len(y), w, func(i int) float64 {
		d := math.Log1p(y[i]) - math.Log1p(pred[i])
		return d * d
	})), nil
}

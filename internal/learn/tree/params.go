package tree

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/learn"
)

// ParseCriterion resolves a criterion name for a task ("auto": gini for
// classification, squared_error for regression).
func ParseCriterion(name string, task learn.Task) (Criterion, error) {
	switch {
	case task.Classification() && (name == "auto" || name == "" || name == "gini"):
		return Gini, nil
	case task.Classification() && (name == "entropy" || name == "log_loss"):
		return Entropy, nil
	case task == learn.Regression && (name == "auto" || name == "" || name == "squared_error"):
		return SquaredError, nil
	}
	if task.Classification() {
		return 0, fmt.Errorf("criterion %q is not valid for classification (valid: auto, gini, entropy)", name)
	}
	return 0, fmt.Errorf("criterion %q is not valid for regression (valid: auto, squared_error)", name)
}

// ParseMaxFeatures resolves max_features for p features: "sqrt", "log2",
// "all", an integer count ("3") or a fraction with a decimal point ("0.5",
// "1.0"). "auto" means sqrt for classification and all for regression.
func ParseMaxFeatures(s string, p int, task learn.Task) (int, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "auto":
		if task.Classification() {
			s = "sqrt"
		} else {
			s = "all"
		}
	}
	switch s {
	case "", "all", "none":
		return p, nil
	case "sqrt":
		return max(1, int(math.Sqrt(float64(p)))), nil
	case "log2":
		return max(1, int(math.Log2(float64(p)))), nil
	}
	bad := fmt.Errorf("max_features %q is not valid (want sqrt, log2, all, auto, an integer 1..%d or a fraction in (0, 1] such as 0.5)", s, p)
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !(f > 0 && f <= 1) {
			return 0, bad
		}
		return max(1, int(f*float64(p))), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > p {
		return 0, bad
	}
	return n, nil
}

// ClassWeights returns per-class weights for class_weight "" (all 1) or
// "balanced" (n / (k · count_c), as in scikit-learn). Rows count mult[i]
// times (nil: once each), so a bootstrap sample's counts give
// "balanced_subsample".
func ClassWeights(mode string, d *Data, mult []float64) ([]float64, error) {
	cw := make([]float64, d.K)
	for c := range cw {
		cw[c] = 1
	}
	switch mode {
	case "", "none":
		return cw, nil
	case "balanced", "balanced_subsample":
	default:
		return nil, fmt.Errorf("class_weight %q is not valid (valid: none, balanced, balanced_subsample)", mode)
	}
	counts := make([]float64, d.K)
	total := 0.0
	for i, c := range d.Class {
		m := 1.0
		if mult != nil {
			m = mult[i]
		}
		counts[c] += m
		total += m
	}
	for c := range cw {
		if counts[c] > 0 {
			cw[c] = total / (float64(d.K) * counts[c])
		}
	}
	return cw, nil
}

// CheckCommon validates the hyperparameters shared by the tree learners.
func CheckCommon(maxDepth, minSplit, minLeaf int, minDecrease, ccp float64) error {
	switch {
	case maxDepth < 0:
		return fmt.Errorf("max_depth is %d, want ≥ 0 (0: unlimited)", maxDepth)
	case minSplit < 2:
		return fmt.Errorf("min_samples_split is %d, want ≥ 2", minSplit)
	case minLeaf < 1:
		return fmt.Errorf("min_samples_leaf is %d, want ≥ 1", minLeaf)
	case !(minDecrease >= 0) || math.IsInf(minDecrease, 0):
		return fmt.Errorf("min_impurity_decrease is %v, want a finite number ≥ 0", minDecrease)
	case !(ccp >= 0) || math.IsInf(ccp, 0):
		return fmt.Errorf("ccp_alpha is %v, want a finite number ≥ 0", ccp)
	}
	return nil
}

package feature

import (
	"fmt"
	"strings"

	"github.com/gyre-ml/gyre/internal/frame"
)

// Family names accepted by Auto, besides the learner names mapped onto them.
const (
	FamilyTrees  = "trees"
	FamilyLinear = "linear"
)

// familyOf maps a learner or family name onto trees or linear.
func familyOf(name string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "trees", "tree", "gbdt", "random_forest", "extra_trees", "decision_tree":
		return FamilyTrees, true
	case "linear", "neural", "distance", "linear_regression", "logistic_regression", "ridge", "lasso", "elasticnet", "sgd", "mlp", "knn", "svm":
		return FamilyLinear, true
	}
	return "", false
}

// Auto returns the default preparation pipeline for a learner family, given
// the schema of the training data (its target, id and ignore roles are
// respected).
//
//   - "trees" (and gbdt, random_forest, extra_trees, decision_tree): no steps.
//     Trees need no scaling and split categories natively; the Encoder does
//     the rest.
//   - "linear", "neural", "distance" (and linear/logistic regression, ridge,
//     lasso, elasticnet, mlp, knn, svm): datetime expansion when there are time
//     columns; impute (median for numbers, most frequent for text and bools)
//     with <col>_missing indicators for columns that had missing values in
//     training; one-hot with categories under 1% of rows or beyond the 20 most
//     frequent grouped as __other__ (unseen categories go there too, or give
//     all zeros); standard scaling of numeric columns.
//
// An unknown family is an error listing the known ones.
func Auto(family string, schema frame.Schema) (Pipeline, error) {
	fam, ok := familyOf(family)
	if !ok {
		return Pipeline{}, fmt.Errorf("auto pipeline: unknown learner family %q (want trees, linear, neural or distance, or a learner name such as gbdt or mlp)", family)
	}
	p := Pipeline{}
	hasTime := false
	for _, fld := range schema.Fields {
		switch fld.Role {
		case frame.RoleTarget:
			p.Target = fld.Name
		case frame.RoleID, frame.RoleIgnore:
			if p.Roles == nil {
				p.Roles = map[string]frame.Role{}
			}
			p.Roles[fld.Name] = fld.Role
		default:
			if fld.Kind == frame.KindTime {
				hasTime = true
			}
		}
	}
	if fam == FamilyTrees {
		return p, nil
	}
	if hasTime {
		p.Steps = append(p.Steps, &DateTime{})
	}
	p.Steps = append(p.Steps,
		&Impute{Strategy: "median", Indicators: true},
		&OneHot{MinFrequency: 0.01, MaxCategories: 20},
		&Scale{Method: "standard"},
	)
	return p, nil
}

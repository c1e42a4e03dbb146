package linear

import "github.com/gyre-ml/gyre/internal/learn"

func init() {
	reg := []learn.Task{learn.Regression}
	cls := []learn.Task{learn.Binary, learn.Multiclass}
	for _, s := range []learn.Spec{
		{Name: "linear_regression", Summary: "ordinary least squares (minimum-norm for collinear columns)", Tasks: reg,
			New: func() learn.Learner { return NewLinearRegression() }},
		{Name: "ridge", Summary: "least squares with an L2 penalty (closed form)", Tasks: reg,
			New: func() learn.Learner { return NewRidge() }},
		{Name: "lasso", Summary: "least squares with an L1 penalty (coordinate descent)", Tasks: reg,
			New: func() learn.Learner { return NewLasso() }},
		{Name: "elastic_net", Summary: "least squares with L1 + L2 penalties (coordinate descent)", Tasks: reg,
			New: func() learn.Learner { return NewElasticNet() }},
		{Name: "logistic_regression", Summary: "binary or multinomial logistic regression, L2/L1/elastic-net", Tasks: cls,
			New: func() learn.Learner { return NewLogisticRegression() }},
		{Name: "linear_svm", Summary: "linear support vector classifier (hinge loss, Platt-calibrated probabilities)", Tasks: cls,
			New: func() learn.Learner { return NewLinearSVM() }},
	} {
		s.Decode = decode
		s.Kinds = []string{s.Name}
		learn.Register(s)
	}
}

var (
	_ learn.Learner = (*LinearRegression)(nil)
	_ learn.Learner = (*Ridge)(nil)
	_ learn.Learner = (*Lasso)(nil)
	_ learn.Learner = (*ElasticNet)(nil)
	_ learn.Learner = (*LogisticRegression)(nil)
	_ learn.Learner = (*LinearSVM)(nil)
)

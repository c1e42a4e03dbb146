package train

// IDName exposes idName to the external tests.
var IDName = idName

// PredictChunked exposes predictChunked to the external tests.
var PredictChunked = predictChunked

// SampleProblem exposes (*Problem).sample to the external tests.
func SampleProblem(p *Problem, n int) *Problem { return p.sample(n) }

// SetCompareMaxRows sets the comparison's sample size for a test and
// returns the function that restores it.
func SetCompareMaxRows(n int) (restore func()) {
	old := compareMaxRows
	compareMaxRows = n
	return func() { compareMaxRows = old }
}

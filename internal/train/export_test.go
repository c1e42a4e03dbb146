package train

// IDName exposes idName to the external tests.
var IDName = idName

// PredictChunked exposes predictChunked to the external tests.
var PredictChunked = predictChunked

// SampleProblem exposes (*Problem).sample to the external tests.
func SampleProblem(p *Problem, n int) *Problem { return p.sample(n) }

package train

// IDName exposes idName to the external tests.
var IDName = idName

// PredictChunked exposes predictChunked to the external tests.
var PredictChunked = predictChunked

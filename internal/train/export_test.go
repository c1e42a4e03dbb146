package train

// IDName exposes idName to the external tests.
var IDName = idName

// Package archtest holds the tests that keep Gyre's architecture what
// docs/ARCHITECTURE.md says it is: the layer of every package (a package
// imports only from lower layers), and the dependencies the default build
// must never gain (cgo, a second HTTP router, a second JSON library). It
// has no Go API; `go test ./internal/archtest` is the check.
//
// The layer of each package is written once, in the table in
// layers_test.go, and the test checks that docs/ARCHITECTURE.md's layer
// table says the same. A new package fails the test until it has a row in
// both: choose its layer from what it imports and who imports it.
package archtest

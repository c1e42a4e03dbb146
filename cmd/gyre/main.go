// Command gyre runs the tabular machine-learning lifecycle: see `gyre --help`.
package main

import (
	"os"

	"github.com/gyre-ml/gyre/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

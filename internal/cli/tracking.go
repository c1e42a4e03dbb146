package cli

import "fmt"

// warnf prints a note on stderr unless output is JSON or quiet.
func (a *App) warnf(format string, args ...any) {
	if !a.JSON && !a.Quiet {
		fmt.Fprintf(a.Stderr, "gyre: note: "+format+"\n", args...)
	}
}

package cli

import (
	"os"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// Progress is a progress indicator; the zero value and nil do nothing.
type Progress struct{ bar *progressbar.ProgressBar }

// progress returns a progress bar on stderr when stderr is a terminal and
// output is neither JSON nor quiet. total < 0 means unknown (a spinner).
func (a *App) progress(total int64, desc string) *Progress {
	if a.JSON || a.Quiet {
		return nil
	}
	f, ok := a.Stderr.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	return &Progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100e6),
	)}
}

// Add advances the bar.
func (p *Progress) Add(n int) {
	if p != nil {
		_ = p.bar.Add(n)
	}
}

// Set sets the bar's position.
func (p *Progress) Set(n int) {
	if p != nil {
		_ = p.bar.Set(n)
	}
}

// Describe changes the bar's label (e.g. to show the current best score).
func (p *Progress) Describe(s string) {
	if p != nil {
		p.bar.Describe(s)
	}
}

// Done finishes and clears the bar.
func (p *Progress) Done() {
	if p != nil {
		_ = p.bar.Finish()
	}
}

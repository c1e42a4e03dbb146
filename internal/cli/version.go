package cli

import (
	"runtime"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

func newVersionCmd(app *App) *cobra.Command {
	return command("version", "Print the Gyre version", "  gyre version\n  gyre version --json", cobra.NoArgs,
		func(cmd *cobra.Command, _ []string) error {
			return app.done(map[string]string{"version": Version, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH}, "gyre %s (%s %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		})
}

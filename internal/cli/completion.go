package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newCompletionCmd) }

func newCompletionCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print a completion script for your shell. Load it in the current shell with
  source <(gyre completion bash)
or install it where your shell looks for completions.`,
		Example:   "  gyre completion bash > /etc/bash_completion.d/gyre\n  gyre completion zsh > \"${fpath[1]}/_gyre\"\n  gyre completion fish > ~/.config/fish/completions/gyre.fish",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(app.Stdout, true)
			case "zsh":
				return root.GenZshCompletion(app.Stdout)
			case "fish":
				return root.GenFishCompletion(app.Stdout, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(app.Stdout)
			}
			return usageErrorf("completion: unknown shell %q (want bash, zsh, fish or powershell)", args[0])
		},
	}
}

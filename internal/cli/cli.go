// Package cli implements the gyre command line: one file per subcommand, all
// registered on one root command. It is the only package that wires concrete
// backends (stores, blob stores, learners) together.
//
// Exit codes: 0 ok, 1 a check failed (validation, drift, a gate) or an
// internal failure, 2 a usage or input error. Errors print as one line on
// stderr, and additionally as a JSON object on stdout under --json.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/ingest/httpsource"
)

// Version is the Gyre version, set at build time with
// -ldflags "-X github.com/gyre-ml/gyre/internal/cli.Version=v1.2.3".
var Version = "0.1.0-dev"

// App carries what every subcommand needs: output streams and global flags.
type App struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	// JSON selects machine-readable output.
	JSON bool
	// Quiet suppresses progress output.
	Quiet bool
	// Store overrides the metadata store (SQLite path or postgres:// URL).
	Store string
	// Artifacts overrides the artifact store (path or s3:// URL).
	Artifacts string
	// Server is a team server URL: commands that read or write the store
	// go through its API instead (see meta.go).
	Server string
	// RenameDuplicates numbers repeated CSV header names instead of
	// refusing the file (--rename-duplicates).
	RenameDuplicates bool
	// API configures http(s) sources that are paged JSON APIs
	// (--paginate, --items, --header-env, --rate-limit, --retries,
	// --max-pages).
	API httpsource.Options
}

// command constructors registered by the subcommand files' init functions.
var commands []func(*App) *cobra.Command

// register adds a top-level subcommand.
func register(f func(*App) *cobra.Command) { commands = append(commands, f) }

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
)

// ErrCheckFailed marks an error as a failed check (exit code 1): validation,
// drift or a gate said no, the input itself was fine.
var ErrCheckFailed = errors.New("check failed")

// exitError carries an explicit exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf returns a usage error (exit 2).
func usageErrorf(format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

// failed wraps an error as an internal or check failure (exit 1).
func failed(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: ExitFailed, err: err}
}

// ExitCode maps an error to the process exit code. Errors not marked
// otherwise are input errors (exit 2): the usual cause of a failed command is
// a bad file, flag or value.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ie interface{ InputError() bool }
	if badPath(err) || errors.As(err, &ie) && ie.InputError() {
		return ExitUsage
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var f failure
	if errors.As(err, &f) && f.Failure() {
		return ExitFailed
	}
	if errors.Is(err, ErrCheckFailed) {
		return ExitFailed
	}
	return ExitUsage
}

// NewRoot builds the root command with every registered subcommand.
func NewRoot(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "gyre",
		Short: "Gyre: the tabular machine-learning lifecycle in one binary",
		Long: `Gyre collects, profiles, cleans and versions tabular data, finds the best model
within a time budget, evaluates it on unseen data, tracks every run, serves
predictions over REST and watches production for drift.`,
		Example: `  gyre data inspect examples/data/adult/adult.train.csv
  gyre automl examples/data/adult/adult.train.csv --target class --budget 1m`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(app.Stdout)
	root.SetErr(app.Stderr)
	if app.Stdin != nil {
		root.SetIn(app.Stdin)
	}
	pf := root.PersistentFlags()
	pf.BoolVar(&app.JSON, "json", false, "print machine-readable JSON")
	pf.BoolVarP(&app.Quiet, "quiet", "q", false, "no progress output")
	pf.StringVar(&app.Store, "store", "", "metadata store: a SQLite path or postgres:// URL (default $GYRE_STORE or $GYRE_HOME/gyre.db)")
	pf.StringVar(&app.Artifacts, "artifacts", "", "artifact store: a path or s3://bucket?endpoint=... URL (default $GYRE_ARTIFACTS or $GYRE_HOME/artifacts)")
	pf.BoolVar(&app.RenameDuplicates, "rename-duplicates", false, "read a CSV whose header repeats a name, numbering the repeats (a, a.1), instead of refusing it")
	pf.StringVar(&app.API.Paginate, "paginate", "", "read an http(s) source as a paged JSON API: link (the Link header), cursor:FIELD[:PARAM], offset[:OFFSET_PARAM:LIMIT_PARAM] or page")
	pf.StringVar(&app.API.Items, "items", "", "with --paginate: the dotted path of the records array in each page (default: found)")
	pf.StringToStringVar(&app.API.HeaderEnv, "header-env", nil, "send an http(s) request header from an environment variable: NAME=VAR (e.g. Authorization=API_TOKEN); repeatable")
	pf.Float64Var(&app.API.Rate, "rate-limit", 0, "with --paginate: the most requests per second (0: no limit)")
	pf.IntVar(&app.API.Retries, "retries", 4, "with --paginate: retries of a request answered 429/5xx or failing on the network, with exponential backoff")
	pf.IntVar(&app.API.MaxPages, "max-pages", 0, "with --paginate: stop after this many pages (0: all)")
	pf.StringVar(&app.Server, "server", "", "work against this team server (http(s)://...) instead of the local store (default $GYRE_SERVER)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	cmds := make([]*cobra.Command, 0, len(commands))
	for _, f := range commands {
		cmds = append(cmds, f(app))
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	root.AddCommand(cmds...)
	// Runnable, so that cobra checks the root's arguments with its Args
	// (typeArgErrors) rather than an untyped error of its own.
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.SuggestionsMinimumDistance = 2
	typeArgErrors(root)
	return root
}

// typeArgErrors makes cobra's argument errors (a wrong argument count, an
// unknown subcommand), which it does not type, usage errors (exit 2) that
// point to the help, for c and every command under it.
func typeArgErrors(c *cobra.Command) {
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		var err error
		switch {
		case check != nil:
			err = check(cmd, args)
		case !cmd.HasParent() && cmd.HasSubCommands() && len(args) > 0:
			// what cobra's default (legacyArgs) says for the root
			err = fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				err = fmt.Errorf("%w (did you mean %s?)", err, strings.Join(s, ", "))
			}
		}
		if err != nil {
			return usageErrorf("%s: %w (see '%s --help')", cmd.CommandPath(), err, cmd.CommandPath())
		}
		return nil
	}
	for _, sub := range c.Commands() {
		typeArgErrors(sub)
	}
}

// Main runs the gyre command line and returns the process exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &App{Stdout: stdout, Stderr: stderr, Stdin: stdin}
	root := NewRoot(app)
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitCode(err)
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(stderr, "gyre: %s\n", msg)
	// Under --json an error is also a JSON object on stdout, except a failed
	// check: the command has already printed its report, verdict included,
	// and stdout stays one JSON document.
	if app.JSON && !errors.Is(err, ErrCheckFailed) {
		enc := json.NewEncoder(stdout)
		_ = enc.Encode(map[string]any{"error": msg, "exit_code": code})
	}
	return code
}

// table returns the writer of a table on stdout, columns aligned two
// spaces apart, with the header row written when columns are given. The
// caller writes the rows, tab-separated, and flushes it.
func (a *App) table(columns ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(a.Stdout, 0, 0, 2, ' ', 0)
	if len(columns) > 0 {
		fmt.Fprintln(tw, strings.Join(columns, "\t"))
	}
	return tw
}

// command is a subcommand: its usage line, one-line help, examples,
// argument check and body (the one shape every leaf command has).
func command(use, short, example string, args cobra.PositionalArgs, run func(cmd *cobra.Command, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Example: example, Args: args, RunE: run}
}

// done reports what a command did: v as JSON under --json, else the line
// format and args make.
func (a *App) done(v any, format string, args ...any) error {
	if a.JSON {
		return a.printJSON(v)
	}
	fmt.Fprintf(a.Stdout, format+"\n", args...)
	return nil
}

// printJSON writes v as indented JSON to the app's stdout.
func (a *App) printJSON(v any) error {
	enc := json.NewEncoder(a.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return failed(fmt.Errorf("write json: %w", err))
	}
	return nil
}

// textWriter is a result that writes itself as text.
type textWriter interface{ WriteText(w io.Writer) error }

// print writes a command's result: as JSON under --json, else as its text.
func (a *App) print(v textWriter) error {
	if a.JSON {
		return a.printJSON(v)
	}
	if err := v.WriteText(a.Stdout); err != nil {
		return failed(fmt.Errorf("write output: %w", err))
	}
	return nil
}

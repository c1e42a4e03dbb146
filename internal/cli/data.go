package cli

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/spf13/cobra"
)

func init() { register(newDataCmd) }

// dataSubcommands holds constructors of further `gyre data` subcommands
// (version, log, diff, get, ...) that other files add from their init
// functions, so that they need not edit this file.
var dataSubcommands []func(*App) *cobra.Command

// readFlags are the source-reading flags shared by the data subcommands.
type readFlags struct {
	schema    string
	delimiter string
	missing   []string
}

func (rf *readFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&rf.schema, "schema", "", "YAML/JSON file of column types and roles (columns: {age: {type: int, role: feature}})")
	fl.StringVar(&rf.delimiter, "delimiter", "", `CSV field delimiter: one character, or "tab" (default: sniffed)`)
	fl.StringSliceVar(&rf.missing, "missing", nil, "tokens read as missing values, replacing the defaults (NA,N/A,NaN,null,?); empty cells are always missing")
}

// options translates the flags into ingest.Options.
func (rf *readFlags) options(app *App) (ingest.Options, error) {
	opt := ingest.Options{Missing: rf.missing, Stdin: app.Stdin, RenameDuplicates: app.RenameDuplicates, API: app.API}
	if !app.Quiet {
		opt.Warn = func(msg string) { fmt.Fprintf(app.Stderr, "gyre: note: %s\n", msg) }
	}
	switch d := rf.delimiter; {
	case d == "":
	case strings.EqualFold(d, "tab") || d == `\t`:
		opt.Delimiter = '\t'
	case utf8.RuneCountInString(d) == 1:
		opt.Delimiter, _ = utf8.DecodeRuneInString(d)
	default:
		return opt, usageErrorf("--delimiter %q: want one character or \"tab\"", d)
	}
	if rf.schema != "" {
		s, err := ingest.ParseSchemaFile(rf.schema)
		if err != nil {
			return opt, usageErrorf("--schema: %w", err)
		}
		opt.Schema = s
	}
	return opt, nil
}

func newDataCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Inspect, preview and convert tabular data",
		Long: `Read tabular data from any source Gyre knows: CSV/TSV files (also .gz), JSON Lines,
Parquet, SQLite and PostgreSQL tables or queries, http(s) URLs of those files,
and "-" for CSV on standard input.`,
		Example: `  gyre data inspect examples/data/adult/adult.train.csv
  gyre data head examples/data/adult/adult.train.csv -n 5
  gyre data convert examples/data/adult/adult.train.csv adult.parquet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDataInspectCmd(app), newDataHeadCmd(app), newDataConvertCmd(app))
	for _, f := range dataSubcommands {
		cmd.AddCommand(f(app))
	}
	return cmd
}

// readSource reads a source with the flags' options, keeping the error
// unmarked (exit 2: input error) unless it is a cancellation.
func readSource(cmd *cobra.Command, app *App, rf *readFlags, source string) (*frame.Frame, error) {
	opt, err := rf.options(app)
	if err != nil {
		return nil, err
	}
	f, err := ingest.Read(cmd.Context(), source, opt)
	if err != nil {
		if errors.Is(err, cmd.Context().Err()) && cmd.Context().Err() != nil {
			return nil, failed(err)
		}
		return nil, err
	}
	return f, nil
}

func newDataInspectCmd(app *App) *cobra.Command {
	var rf readFlags
	cmd := &cobra.Command{
		Use:   "inspect SOURCE",
		Short: "Show rows, columns, types, roles and missing values of a data source",
		Example: `  gyre data inspect examples/data/adult/adult.train.csv
  gyre data inspect adult.parquet --json
  gyre data inspect data.csv --schema schema.yaml --missing NA,-
  cat data.csv | gyre data inspect -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := readSource(cmd, app, &rf, args[0])
			if err != nil {
				return err
			}
			info := frame.Describe(args[0], f)
			if app.JSON {
				return app.printJSON(info)
			}
			return info.WriteText(app.Stdout)
		},
	}
	rf.add(cmd)
	return cmd
}

func newDataHeadCmd(app *App) *cobra.Command {
	var rf readFlags
	var n int
	cmd := &cobra.Command{
		Use:   "head SOURCE",
		Short: "Print the first rows of a data source",
		Example: `  gyre data head examples/data/adult/adult.train.csv
  gyre data head adult.parquet -n 3 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 0 {
				return usageErrorf("-n %d: want a count of rows >= 0", n)
			}
			f, err := readSource(cmd, app, &rf, args[0])
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(frame.HeadOf(f, n))
			}
			return frame.WriteHead(app.Stdout, f, n)
		},
	}
	rf.add(cmd)
	cmd.Flags().IntVarP(&n, "rows", "n", 10, "number of rows to print")
	return cmd
}

func newDataConvertCmd(app *App) *cobra.Command {
	var rf readFlags
	cmd := &cobra.Command{
		Use:   "convert SOURCE DEST",
		Short: "Convert a data source to CSV, Parquet or JSON Lines (by DEST's extension)",
		Long: `Read SOURCE and write it to DEST, choosing the format from DEST's extension:
.csv, .tsv, .csv.gz, .parquet, .jsonl; "-" writes CSV to standard output. Types and
missing values round-trip: reading DEST back gives the same column types and missing
values. DEST is replaced atomically.`,
		Example: `  gyre data convert examples/data/adult/adult.train.csv adult.parquet
  gyre data convert adult.parquet adult.jsonl
  gyre data convert https://example.com/data.parquet - | head
  gyre data convert "sqlite://runs.db?table=scores" scores.csv`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := readSource(cmd, app, &rf, args[0])
			if err != nil {
				return err
			}
			if args[1] == "-" {
				if err := ingest.WriteCSV(cmd.Context(), app.Stdout, f, ','); err != nil {
					return failed(fmt.Errorf("write stdout: %w", err))
				}
				return nil
			}
			if err := ingest.Write(cmd.Context(), f, args[1]); err != nil {
				if errors.Is(err, ingest.ErrFormat) {
					return usageErrorf("%w", err)
				}
				return failed(err)
			}
			return app.done(map[string]any{"source": args[0], "dest": args[1], "rows": f.NumRows(), "columns": f.NumCols()}, "wrote %s: %d rows × %d columns", args[1], f.NumRows(), f.NumCols())
		},
	}
	rf.add(cmd)
	return cmd
}

package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/workspace"
)

func init() { register(newRunsCmd) }

func newRunsCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List, show, compare and delete tracked runs",
		Long: `Every train and automl invocation is tracked as a run: parameters, metrics, tags,
artifacts, data set versions, the command line, Gyre version and git commit.`,
		Example: `  gyre runs list --filter "metrics.roc_auc > 0.9 and params.learner = 'gbdt'" --order-by metrics.roc_auc
  gyre runs show 3f2a9c
  gyre runs compare 3f2a9c 81bd07`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newRunsListCmd(app), newRunsShowCmd(app), newRunsCompareCmd(app), newRunsDeleteCmd(app), newRunsNoteCmd(app))
	return cmd
}

func newRunsListCmd(app *App) *cobra.Command {
	var o track.SearchOptions
	var cols []string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List runs matching a filter, ordered and paginated",
		Long: `List runs, newest first unless --order-by says otherwise.

Filter: conditions joined by "and": metrics.KEY OP NUMBER, params.KEY OP 'TEXT',
tags.KEY OP 'TEXT', and attributes status, name, run_id, parent_id, user,
start_time/end_time (unix ms). OP is = != < <= > >= (numbers), = != LIKE ILIKE
IN (...) (text).`,
		Example: `  gyre runs list
  gyre runs list --filter "metrics.roc_auc > 0.9 and params.learner = 'gbdt'" --order-by metrics.roc_auc
  gyre runs list --experiment adult --limit 20 --page-token <token from the previous page> --json`,
		Args: cobra.NoArgs,
		RunE: app.withBackend(func(cmd *cobra.Command, _ []string, b *backend) error {
			page, err := b.Runs.Search(cmd.Context(), o)
			if err != nil {
				return storeError(err)
			}
			if app.JSON {
				return app.printJSON(page)
			}
			return page.WriteTable(app.Stdout, cols)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.Filter, "filter", "", "filter expression, e.g. \"metrics.roc_auc > 0.9 and params.learner = 'gbdt'\"")
	f.StringArrayVar(&o.OrderBy, "order-by", nil, "order term, e.g. metrics.roc_auc, params.learner ASC, start_time (repeatable)")
	f.StringSliceVar(&o.Experiments, "experiment", nil, "only these experiments (comma-separated or repeated)")
	f.IntVar(&o.Limit, "limit", 50, fmt.Sprintf("runs per page (at most %d)", track.MaxLimit))
	f.StringVar(&o.PageToken, "page-token", "", "continue after a previous page")
	f.StringSliceVar(&cols, "columns", nil, "extra columns such as metrics.roc_auc,params.learner (default: a few metrics and params)")
	return cmd
}

func newRunsShowCmd(app *App) *cobra.Command {
	return command("show RUN_ID", "Show one run: params, metrics, tags, artifacts, data sets, provenance", "  gyre runs show 3f2a9c\n  gyre runs show 3f2a9c --json", cobra.ExactArgs(1),
		app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			r, err := b.Runs.Get(cmd.Context(), args[0])
			if err != nil {
				return storeError(err)
			}
			if app.JSON {
				return app.printJSON(r)
			}
			return r.WriteText(app.Stdout)
		}))
}

func newRunsCompareCmd(app *App) *cobra.Command {
	var all bool
	cmd := command("compare RUN_ID RUN_ID...", "Compare runs' params and metrics side by side", "  gyre runs compare 3f2a9c 81bd07\n  gyre runs compare 3f2a9c 81bd07 --all --json", cobra.MinimumNArgs(2),
		app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			var runs []track.RunInfo
			for _, id := range args {
				r, err := b.Runs.Get(cmd.Context(), id)
				if err != nil {
					return storeError(err)
				}
				runs = append(runs, *r)
			}
			c := track.Compare(runs)
			if app.JSON {
				return app.printJSON(c)
			}
			return c.WriteTable(app.Stdout, all)
		}))
	cmd.Flags().BoolVar(&all, "all", false, "also show params that are the same in every run")
	return cmd
}

func newRunsDeleteCmd(app *App) *cobra.Command {
	return command("delete RUN_ID...", "Delete runs with their child runs and logged data", "  gyre runs delete 3f2a9c", cobra.MinimumNArgs(1),
		app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			for _, id := range args {
				if err := b.Runs.Delete(cmd.Context(), id); err != nil {
					return storeError(err)
				}
			}
			return app.done(map[string]any{"deleted": args}, "deleted %d run(s)", len(args))
		}))
}

func newRunsNoteCmd(app *App) *cobra.Command {
	var appendNote bool
	cmd := &cobra.Command{
		Use:   "note RUN_ID TEXT",
		Short: "Attach a note to a run (MLflow's mlflow.note.content tag)",
		Long: `Attach a note to a run: what was tried and why, what to remember. It is kept
as the run's mlflow.note.content tag, where MLflow's UI shows a run's
description. The note replaces an earlier one unless --append is given.`,
		Example: `  gyre runs note 3f2a9c "baseline before the recipe; Fare capped at p99"
  gyre runs note 3f2a9c --append "promoted after review"`,
		Args: cobra.ExactArgs(2),
		RunE: app.withBackend(func(cmd *cobra.Command, args []string, b *backend) error {
			text := strings.TrimSpace(args[1])
			if text == "" {
				return usageErrorf("runs note: the note is empty")
			}
			id, text, err := b.Note(cmd.Context(), args[0], text, appendNote)
			var ne *workspace.NoteError
			switch {
			case errors.Is(err, workspace.ErrRemoteNote):
				return usageErrorf("runs note: not available through a team server; set the tag %s with the MLflow API (set-tag) instead", track.NoteTag)
			case errors.As(err, &ne):
				return failed(fmt.Errorf("runs note %s: %w", ne.RunID, ne.Err))
			case err != nil:
				return storeError(err)
			}
			if app.JSON {
				return app.printJSON(map[string]string{"run_id": id, "note": text})
			}
			fmt.Fprintf(app.Stdout, "noted run %s\n", id)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&appendNote, "append", false, "add to the run's note instead of replacing it")
	return cmd
}

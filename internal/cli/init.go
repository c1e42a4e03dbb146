package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/pipeline"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

func init() { register(newInitCmd) }

func newInitCmd(app *App) *cobra.Command {
	var target, name, task, out, purpose string
	var force bool
	cmd := &cobra.Command{
		Use:   "init SOURCE --target COL",
		Short: "Write a commented gyre.yaml project file for a data set",
		Long: `Read SOURCE, detect the task from the target column and write a commented
gyre.yaml: the problem, the data source and holdout, goals the model must meet,
the AutoML budget, the promotion gate, monitoring settings and retraining
triggers. 'gyre pipeline run' runs it; 'gyre monitor --project' alerts on it.`,
		Example: `  gyre init examples/data/bike_sharing/bike_sharing.train.csv --target cnt --name bike
  gyre init churn.parquet --target churned --out projects/churn/gyre.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			source := args[0]
			if target == "" {
				return usageErrorf("init: --target is required (the column to predict)")
			}
			if !force {
				if _, err := os.Stat(out); err == nil {
					return usageErrorf("init: %s exists: pass --force to overwrite it", out)
				}
			}
			f, err := app.loadFrame(ctx, source)
			if err != nil {
				return err
			}
			t, err := parseTask(task)
			if err != nil {
				return err
			}
			p, err := train.NewProblem(f, target, t)
			if err != nil {
				return usageErrorf("init %s: %v", source, err)
			}
			if name == "" {
				name = trainlog.DatasetName(source)
			}
			if err := pipeline.CheckName(name); err != nil {
				return usageErrorf("init: --name: %v", err)
			}
			rel := source
			if abs, err := filepath.Abs(source); err == nil {
				if dir, err := filepath.Abs(filepath.Dir(out)); err == nil {
					if r, err := filepath.Rel(dir, abs); err == nil {
						rel = r
					}
				}
			}
			data, err := pipeline.Draft{Name: name, Task: p.Task, Target: target, Source: rel, Purpose: purpose, Rows: f.NumRows(), Cols: f.NumCols()}.Write(out)
			if err != nil {
				return failed(fmt.Errorf("init: %w", err))
			}
			if dir := filepath.Dir(out); dir != "" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return failed(err)
				}
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return failed(fmt.Errorf("init: %w", err))
			}
			return app.done(map[string]any{"project": out, "name": name, "task": p.Task.String(), "target": target, "source": rel}, "wrote %s (%s on %q, %d rows): edit the goals, then run 'gyre pipeline run %s'", out, p.Task, target, f.NumRows(), out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&target, "target", "", "target column (required)")
	fl.StringVar(&name, "name", "", "model name to register (default: the file name)")
	fl.StringVar(&task, "task", "", "regression, binary, multiclass or classification (default: detect)")
	fl.StringVar(&purpose, "purpose", "", "what a prediction is used for")
	fl.StringVar(&out, "out", "gyre.yaml", "project file to write")
	fl.BoolVar(&force, "force", false, "overwrite an existing project file")
	return cmd
}

package cli

import (
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/pipeline"
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
			r, err := pipeline.Init(pipeline.InitOptions{Frame: f, Source: source, Target: target, Task: t, Name: name, Purpose: purpose, Out: out})
			var ne *pipeline.NameError
			var ie interface{ Failure() bool }
			switch {
			case errors.As(err, &ne):
				return usageErrorf("init: --name: %v", ne.Err)
			case errors.As(err, &ie):
				return err
			case err != nil:
				return usageErrorf("init %s: %v", source, err)
			}
			return app.done(r, "wrote %s (%s on %q, %d rows): edit the goals, then run 'gyre pipeline run %s'", out, r.Task, target, r.Rows, out)
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

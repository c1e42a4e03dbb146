package cli

import (
	"context"
	"fmt"

	"github.com/gyre-ml/gyre/internal/bundle"
)

// finishModel stamps the bundle with the Gyre version, saves it to out, and
// records the run and registers the model when a store is available.
func finishModel(ctx context.Context, app *App, b *bundle.Bundle, out, registerAs, source, command string, res *trainResult) error {
	b.Manifest.GyreVersion = Version
	if err := b.Save(out); err != nil {
		return failed(err)
	}
	if registerAs != "" && modelRecorder == nil {
		return failed(fmt.Errorf("register %s: this build has no model registry", registerAs))
	}
	if modelRecorder != nil {
		runID, ref, err := modelRecorder(ctx, app, b, out, registerAs, source, command)
		if err != nil {
			return failed(err)
		}
		res.RunID, res.Registered = runID, ref
	}
	return nil
}

// modelRecorder tracks a finished training run (and registers the model when
// registerAs is set); wired by the tracking commands when a store exists.
var modelRecorder func(ctx context.Context, app *App, b *bundle.Bundle, path, registerAs, source, command string) (runID, ref string, err error)

package track_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

func TestMetricHistories(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := newTracker(t, db)
		r, err := tr.StartRun(ctx, "h", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		err = r.LogMetrics(ctx, []track.Metric{{Key: "loss", Value: 0.5, Step: 2}, {Key: "auc", Value: 0.7, Step: 0}, {Key: "loss", Value: 0.9, Step: 0},
			{Key: "loss", Value: math.NaN(), Step: 1}, {Key: "auc", Value: 0.8, Step: 1}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := tr.MetricHistories(ctx, r.ID())
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i].TimesMS = nil
		}
		b, _ := json.Marshal(got)
		want := `[{"key":"auc","steps":[0,1],"values":[0.7,0.8],"times_ms":null},{"key":"loss","steps":[0,1,2],"values":[0.9,null,0.5],"times_ms":null}]`
		if string(b) != want {
			t.Errorf("MetricHistories = %s\nwant %s", b, want)
		}
		if got, err := tr.MetricHistories(ctx, "0123456789abcdef0123456789abcdef"); err != nil || len(got) != 0 {
			t.Errorf("a run without metrics: %v, %v; want none", got, err)
		}
	})
}

package track

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

// TestSearchPlansAgree pages through searches with every plan Search can
// choose (a small lead read whole and sorted, the runs index in start
// order, a term's index in value order followed by the runs without a
// value) and checks that each gives the same runs in the same order as
// one page of everything sorted.
func TestSearchPlansAgree(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := New(db, nil)
		rng := rand.New(rand.NewPCG(3, 4))
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 120 {
			// Every third pair of runs share a start time: ties.
			tr.Now = func() time.Time { return base.Add(time.Duration(i/2) * time.Second) }
			exp := "big"
			if i%7 == 0 {
				exp = "other"
			}
			params := map[string]string{"learner": []string{"gbdt", "forest", "linear"}[rng.IntN(3)]}
			if i%5 != 0 {
				params["leaves"] = fmt.Sprint(8 << rng.IntN(3))
			}
			r, err := tr.Start(ctx, RunOptions{Experiment: exp, Name: fmt.Sprintf("r%03d", i), Params: params})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case i%11 == 0: // no auc at all
			case i%13 == 0:
				err = r.LogMetric(ctx, "auc", math.NaN(), 0)
			default:
				err = r.LogMetric(ctx, "auc", math.Round(rng.Float64()*20)/20, 0) // many ties
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := r.End(ctx, []Status{StatusFinished, StatusFailed}[i%4/3]); err != nil {
				t.Fatal(err)
			}
		}
		searches := []SearchOptions{
			{Experiments: []string{"big"}},
			{Experiments: []string{"big"}, Filter: "params.learner = 'gbdt' and metrics.auc > 0.4"},
			{Experiments: []string{"big"}, OrderBy: []string{"metrics.auc DESC"}},
			{Experiments: []string{"big"}, OrderBy: []string{"metrics.auc ASC", "params.leaves DESC"}},
			{OrderBy: []string{"params.leaves"}},
			{Experiments: []string{"big", "other"}, Filter: "params.learner IN ('gbdt', 'linear')", OrderBy: []string{"metrics.auc"}},
			{Experiments: []string{"big"}, Filter: "metrics.auc >= 0.5 and status = 'FINISHED'", OrderBy: []string{"metrics.auc"}},
			{Experiments: []string{"big"}, Filter: "params.leaves != '16'", OrderBy: []string{"start_time ASC"}},
			{Experiments: []string{"big"}, Filter: "params.learner LIKE 'f%'", OrderBy: []string{"name DESC"}},
			{Experiments: []string{"missing"}},
		}
		old, oldTie := smallDriver, tieGroup
		defer func() { smallDriver, tieGroup = old, oldTie }()
		for _, o := range searches {
			smallDriver = 1 << 30
			all := o
			all.Limit = 1000
			want, err := tr.Search(ctx, all)
			if err != nil {
				t.Fatalf("%+v: %v", o, err)
			}
			wantIDs := ids(want.Runs)
			for _, cap := range []int{1, 7, 1 << 30} {
				smallDriver = cap
				tieGroup = map[int]int{1: 1, 7: 3, 1 << 30: 500}[cap] // tie groups read in start order from 1 run, from 3, never
				for _, limit := range []int{1000, 9} {
					var got []string
					page := o
					page.Limit = limit
					for range 200 {
						p, err := tr.Search(ctx, page)
						if err != nil {
							t.Fatalf("%+v (smallDriver %d): %v", page, cap, err)
						}
						got = append(got, ids(p.Runs)...)
						if page.PageToken = p.NextPageToken; page.PageToken == "" {
							break
						}
					}
					if !slices.Equal(got, wantIDs) {
						t.Errorf("%q %v in %v, smallDriver %d, pages of %d:\n got %s\nwant %s", o.Filter, o.OrderBy, o.Experiments, cap, limit, names(tr, got), names(tr, wantIDs))
					}
				}
			}
		}
	})
}

func ids(runs []RunInfo) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

func names(tr *Tracker, ids []string) string {
	runs, _ := tr.load(context.Background(), ids)
	var s []string
	for _, r := range runs {
		s = append(s, r.Name)
	}
	return strings.Join(s, ",")
}

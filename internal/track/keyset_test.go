package track

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

// TestSearchTokens: next_page_token is a keyset token (the page's last
// run by its order values), an offset token still names a page by its
// position (links to page N), and a keyset token of another order is
// refused rather than read as something else.
func TestSearchTokens(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := New(db, nil)
		base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		for i := range 30 {
			tr.Now = func() time.Time { return base.Add(time.Duration(i/3) * time.Second) } // ties of three
			r, err := tr.Start(ctx, RunOptions{Experiment: "tok", Name: fmt.Sprintf("r%02d", i), Params: map[string]string{"g": fmt.Sprint(i % 2)}})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.End(ctx, StatusFinished); err != nil {
				t.Fatal(err)
			}
		}
		o := SearchOptions{Experiments: []string{"tok"}, OrderBy: []string{"params.g"}}
		all := o
		all.Limit = 100
		want, err := tr.Search(ctx, all)
		if err != nil {
			t.Fatal(err)
		}
		page := o
		page.Limit = 4
		first, err := tr.Search(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		if _, keyset, err := decodeAfter(first.NextPageToken, 3); !keyset || err != nil {
			t.Fatalf("next_page_token %q is not a keyset token of 3 values: %v", first.NextPageToken, err)
		}
		page.PageToken = EncodePageToken(8)
		third, err := tr.Search(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(third.Runs); !slices.Equal(got, ids(want.Runs)[8:12]) {
			t.Errorf("offset token of 8: %s, want %s", names(tr, got), names(tr, ids(want.Runs)[8:12]))
		}
		page.PageToken = third.NextPageToken
		fourth, err := tr.Search(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(fourth.Runs); !slices.Equal(got, ids(want.Runs)[12:16]) {
			t.Errorf("the keyset page after an offset page: %s, want %s", names(tr, got), names(tr, ids(want.Runs)[12:16]))
		}
		other := SearchOptions{Experiments: []string{"tok"}, OrderBy: []string{"params.g", "metrics.m"}, PageToken: first.NextPageToken}
		if _, err := tr.Search(ctx, other); !errors.Is(err, ErrBadPageToken) {
			t.Errorf("a token of another order: %v, want ErrBadPageToken", err)
		}
	})
}

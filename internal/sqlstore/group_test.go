package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

var errTaken = errors.New("name taken")

// nameGroup inserts data set names in groups: a name already stored is its
// item's error; a name starting with ! fails the group's statement (a NULL
// created_ms), which
// Group must then pin on that item alone.
func nameGroup(db *sqlstore.DB, groups *atomic.Int64) *sqlstore.Group[string] {
	return &sqlstore.Group[string]{DB: db, Apply: func(ctx context.Context, tx *sqlstore.Tx, names []string) ([]error, error) {
		groups.Add(1)
		errs := make([]error, len(names))
		var ph []string
		var args []any
		for i, n := range names {
			var c int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM datasets WHERE name = ?", n).Scan(&c); err != nil {
				return nil, err
			}
			if c > 0 {
				errs[i] = fmt.Errorf("%s: %w", n, errTaken)
				continue
			}
			ph = append(ph, "(?, ?)")
			if strings.HasPrefix(n, "!") {
				args = append(args, n, nil)
			} else {
				args = append(args, n, 0)
			}
		}
		if len(ph) > 0 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO datasets (name, created_ms) VALUES "+strings.Join(ph, ", "), args...); err != nil {
				return nil, err
			}
		}
		return errs, nil
	}}
}

// TestGroup: concurrent writers' items share transactions, every
// acknowledged item is stored (seen from a second handle on the database),
// and a failing item, whether Apply names it or it fails the whole
// statement, fails its own caller only.
func TestGroup(t *testing.T) {
	ctx := context.Background()
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := sqlstoretest.Open(t, b)
			var groups atomic.Int64
			g := nameGroup(db, &groups)
			if err := g.Write(ctx, "taken"); err != nil {
				t.Fatal(err)
			}
			const workers, each = 16, 40
			name := func(w, i int) string {
				switch i % 9 {
				case 3:
					return "taken"
				case 5:
					return fmt.Sprintf("!w%d-%d", w, i)
				}
				return fmt.Sprintf("w%d-%d", w, i)
			}
			var wg sync.WaitGroup
			var errs [workers][each]error
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						errs[w][i] = g.Write(ctx, name(w, i))
					}
				}()
			}
			wg.Wait()
			if n := groups.Load(); n >= workers*each {
				t.Errorf("%d writes took %d transactions: none were grouped", workers*each, n)
			} else {
				t.Logf("%d writes, %d Apply calls", workers*each, n)
			}
			other, err := sqlstore.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			for w := range workers {
				for i := range each {
					n, err := name(w, i), errs[w][i]
					switch i % 9 {
					case 3:
						if !errors.Is(err, errTaken) {
							t.Errorf("write %d/%d of a taken name: %v; want errTaken", w, i, err)
						}
					case 5:
						if err == nil || errors.Is(err, errTaken) {
							t.Errorf("write %d/%d of a bad row: %v; want its NOT NULL violation", w, i, err)
						}
					default:
						var c int
						if err := other.QueryRowContext(ctx, "SELECT COUNT(*) FROM datasets WHERE name = ?", n).Scan(&c); err != nil {
							t.Fatal(err)
						}
						if err != nil || c != 1 {
							t.Errorf("write %s: error %v, %d rows stored; want nil and 1 (another item's failure leaked)", n, errs[w][i], c)
						}
					}
				}
			}
		})
	}
}

// TestGroupCancelled: an item whose context is done before its turn is not
// written.
func TestGroupCancelled(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		var groups atomic.Int64
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := nameGroup(db, &groups).Write(ctx, "x"); !errors.Is(err, context.Canceled) || groups.Load() != 0 {
			t.Fatalf("Write on a cancelled context = %v after %d Apply calls; want context.Canceled, none", err, groups.Load())
		}
	})
}

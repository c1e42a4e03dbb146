package track

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Tie groups. Reading the ordering term's (key, value) index in value
// order stops after a page only when few runs share a value: a value held
// by many runs (a parameter of four values over 100,000 runs: groups of
// 25,000) has its whole group read and sorted by start time before the
// first row comes out. So when the search orders by one term alone, the
// ordered part is read a group at a time: the group's value from the
// index, its size counted up to [tieGroup]; a large group is read from the
// runs index in start order probing the term by primary key (a page of it
// stops after the page), a small group and everything after it by the
// ordinary query, positioned after the large groups read.

// tieGroup is the group size from which a group is read in start order.
var tieGroup = 500

// tieGroups reads the ordered part p a tie group at a time while the
// groups are large, up to want runs. With rest, the ordinary query reads
// the rest of the part from the keyset position resume (nil: from the
// start); without, the part is read.
func (q *searchQuery) tieGroups(ctx context.Context, db *sqlstore.DB, sc scope, p part, want int) (ids []string, keys [][]any, resume []any, rest bool, err error) {
	tj := p.lead
	if len(q.orders) != 1 || tj == nil {
		return nil, nil, q.after, true, nil
	}
	desc := q.orders[0].Desc
	var v any
	if q.after != nil {
		if v = q.after[0]; v == nil {
			return nil, nil, nil, false, nil // the cursor is past the runs with a value
		}
	} else if v, err = q.nextValue(ctx, db, tj, nil, desc); err != nil || v == nil {
		return nil, nil, nil, false, err
	}
	var last any // the value of the last group read whole
	for {
		n, err := q.groupSize(ctx, db, sc, tj, v)
		if err != nil {
			return nil, nil, nil, false, err
		}
		if n < tieGroup {
			if len(ids) == 0 {
				return nil, nil, q.after, true, nil
			}
			return ids, keys, []any{last, int64(math.MinInt64), ""}, true, nil // after every run of the group read last
		}
		g := part{orders: nil, group: tj, groupVal: v}
		if q.after != nil && q.after[0] == v {
			// inside the group: its runs in start order from the cursor
			g.where, g.args = []string{"r.start_ms <= ?"}, []any{q.after[1]}
		}
		saved := q.after
		if saved != nil && saved[0] != v {
			q.after = nil
		}
		ids, keys, err = q.readPart(ctx, db, sc, g, want, 0, ids, keys)
		q.after = saved
		if err != nil || len(ids) >= want {
			return ids, keys, nil, false, err
		}
		last = v
		if v, err = q.nextValue(ctx, db, tj, v, desc); err != nil || v == nil {
			return ids, keys, nil, false, err
		}
	}
}

// nextValue is the value of term tj after v (nil: the first) in the
// search's direction that its filter conditions keep, nil when none.
func (q *searchQuery) nextValue(ctx context.Context, db *sqlstore.DB, tj *termJoin, v any, desc bool) (any, error) {
	where := []string{"j.key = ?", "j.value IS NOT NULL"}
	args := []any{tj.term.Key}
	for _, c := range tj.conds {
		s, a := c.sql("j.value")
		where, args = append(where, s), append(args, a...)
	}
	dir, op := "ASC", " > ?"
	if desc {
		dir, op = "DESC", " < ?"
	}
	if v != nil {
		where, args = append(where, "j.value"+op), append(args, v)
	}
	var next any
	err := db.QueryRowContext(ctx, "SELECT j.value FROM "+tj.table+" j WHERE "+strings.Join(where, " AND ")+" ORDER BY j.value "+dir+" LIMIT 1", args...).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if b, ok := next.([]byte); ok {
		next = string(b)
	}
	return next, nil
}

// groupSize counts the runs of the search's scope whose value of tj is v,
// up to tieGroup.
func (q *searchQuery) groupSize(ctx context.Context, db *sqlstore.DB, sc scope, tj *termJoin, v any) (int, error) {
	sw, sa := q.scopeSQL(sc)
	where := append([]string{"j.key = ?", "j.value = ?"}, sw...)
	sel := "SELECT 1 FROM " + tj.table + " j JOIN runs r ON r.id = j.run_id WHERE " + strings.Join(where, " AND ") + " LIMIT ?"
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ("+sel+") c", append(append([]any{tj.term.Key, v}, sa...), tieGroup)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("plan: %w", err)
	}
	return n, nil
}

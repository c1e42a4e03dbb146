package track

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// How a search finds one page among many runs.
//
// A page is the first LIMIT+1 runs in order after OFFSET. The query is
// fast when it reads rows in that order and stops at the page's end, or
// when it reads few rows and sorts them; it is slow when it reads many
// rows and sorts them all (a temporary B-tree of 20,000 matches took
// ~0.6 s on SQLite). Neither planner knows how many rows a filter value
// matches (SQLite keeps no value statistics; PostgreSQL's need ANALYZE),
// so Search asks: it counts, up to [smallDriver], the rows of the
// experiment and of each filter term's index range (a covering index
// scan, well under a millisecond), and then
//
//   - when one of them is small, leads the query with it and sorts what
//     it finds;
//   - else, when the first ordering term is a metric, parameter or tag,
//     reads that term's (key, value) index in order, then the runs without
//     a value (NULLS LAST) in a second query;
//   - else reads the experiment's runs index in start order, probing the
//     filter terms by primary key.
//
// On SQLite, CROSS JOIN fixes the join order and a unary + on a probed
// column keeps the planner from scanning a (key, value) range per row.

// smallDriver is how many rows a search may read whole and sort.
var smallDriver = 2000

// condSQL is one filter comparison of a column.
type condSQL struct {
	op   string
	vals []any
}

func (c condSQL) sql(col string) (string, []any) {
	switch c.op {
	case "IN", "NOT IN":
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(c.vals)), ", ")
		return fmt.Sprintf("%s %s (%s)", col, c.op, ph), c.vals
	case "ILIKE":
		return fmt.Sprintf("LOWER(%s) LIKE LOWER(?)", col), c.vals[:1]
	default:
		return fmt.Sprintf("%s %s ?", col, c.op), c.vals[:1]
	}
}

// sargable reports whether a (key, value) index finds the matching values
// as one range or a few.
func (c condSQL) sargable() bool {
	switch c.op {
	case "=", "<", "<=", ">", ">=", "IN":
		return true
	}
	return false
}

// termJoin is a metric, parameter or tag joined to the runs.
type termJoin struct {
	term  Term
	table string
	alias string
	conds []condSQL
}

func (tj *termJoin) sargable() []condSQL {
	var out []condSQL
	for _, c := range tj.conds {
		if c.sargable() {
			out = append(out, c)
		}
	}
	return out
}

// attrCond is a filter comparison of a run column.
type attrCond struct {
	col string
	condSQL
}

// searchQuery is a parsed search, before its plan is chosen.
type searchQuery struct {
	d             sqlstore.Dialect
	limit, offset int
	// after holds the order values of the run a keyset page starts after
	// (nil: the page starts at offset).
	after         []any
	terms         map[Term]*termJoin
	filterTerms   []*termJoin // terms with conditions, in filter order
	attrs         []attrCond
	orders        []OrderBy
	experiments   []string
	experimentIDs []string
	view          ViewType
}

func parseSearch(d sqlstore.Dialect, o SearchOptions) (*searchQuery, error) {
	q := &searchQuery{d: d, limit: o.Limit, terms: map[Term]*termJoin{}, view: o.View,
		experiments: o.Experiments, experimentIDs: o.ExperimentIDs}
	if q.limit <= 0 {
		q.limit = 100
	}
	if q.limit > MaxLimit {
		return nil, fmt.Errorf("limit %d: at most %d runs per page", q.limit, MaxLimit)
	}
	f, err := ParseFilter(o.Filter)
	if err != nil {
		return nil, err
	}
	for _, s := range o.OrderBy {
		parse := ParseOrderBy
		if o.OrderASC {
			parse = ParseOrderByASC
		}
		ob, err := parse(s)
		if err != nil {
			return nil, err
		}
		q.orders = append(q.orders, ob)
	}
	for _, c := range f {
		cs := condSQL{op: c.Op, vals: c.Values}
		if c.Term.Entity == EntityAttribute {
			col := attributes[c.Term.Key]
			if numericAttribute(col) {
				for i, v := range cs.vals {
					cs.vals[i] = int64(v.(float64))
				}
			}
			q.attrs = append(q.attrs, attrCond{col: col, condSQL: cs})
			continue
		}
		tj := q.term(c.Term)
		if len(tj.conds) == 0 {
			q.filterTerms = append(q.filterTerms, tj)
		}
		tj.conds = append(tj.conds, cs)
	}
	for _, ob := range q.orders {
		if ob.Term.Entity != EntityAttribute {
			q.term(ob.Term)
		}
	}
	if o.PageToken != "" {
		vals, keyset, err := decodeAfter(o.PageToken, len(q.keys()))
		switch {
		case err != nil:
			return nil, err
		case keyset:
			q.after = vals
		default:
			if q.offset, err = DecodePageToken(o.PageToken); err != nil {
				return nil, err
			}
		}
	}
	return q, nil
}

func (q *searchQuery) term(t Term) *termJoin {
	tj, ok := q.terms[t]
	if !ok {
		tj = &termJoin{term: t, table: entityTable[t.Entity], alias: fmt.Sprintf("j%d", len(q.terms))}
		q.terms[t] = tj
	}
	return tj
}

var entityTable = map[Entity]string{EntityMetric: "latest_metrics", EntityParam: "params", EntityTag: "tags"}

// notNullColumns are run columns that hold no NULL: they sort without a
// NULLS LAST clause, which keeps SQLite able to read them from an index.
var notNullColumns = map[string]bool{"r.status": true, "r.name": true, "r.id": true, "r.user_name": true,
	"r.start_ms": true, "r.command": true, "r.git_commit": true, "r.gyre_version": true}

// scope is the set of experiment ids a search covers; all means every
// experiment.
type scope struct {
	all bool
	ids []string
}

func (q *searchQuery) resolveScope(ctx context.Context, db *sqlstore.DB) (scope, error) {
	if len(q.experiments) == 0 && len(q.experimentIDs) == 0 {
		return scope{all: true}, nil
	}
	ids := q.experimentIDs
	if len(q.experiments) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(q.experiments)), ", ")
		args := make([]any, len(q.experiments))
		for i, e := range q.experiments {
			args[i] = e
		}
		rows, err := db.QueryContext(ctx, "SELECT id FROM experiments WHERE name IN ("+ph+") ORDER BY id", args...)
		if err != nil {
			return scope{}, err
		}
		defer rows.Close()
		want := map[string]bool{}
		for _, id := range q.experimentIDs {
			want[id] = true
		}
		var named []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return scope{}, err
			}
			if len(q.experimentIDs) == 0 || want[id] {
				named = append(named, id)
			}
		}
		if err := rows.Err(); err != nil {
			return scope{}, err
		}
		ids = named
	}
	return scope{ids: ids}, nil
}

// scopeSQL is the condition on r selecting the scope and view.
func (q *searchQuery) scopeSQL(sc scope) ([]string, []any) {
	var where []string
	var args []any
	if !sc.all {
		if len(sc.ids) == 1 {
			where = append(where, "r.experiment_id = ?")
		} else {
			where = append(where, "r.experiment_id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(sc.ids)), ", ")+")")
		}
		for _, id := range sc.ids {
			args = append(args, id)
		}
	}
	switch q.view {
	case ActiveOnly:
		where = append(where, "r.lifecycle_stage = 'active'")
	case DeletedOnly:
		where = append(where, "r.lifecycle_stage = 'deleted'")
	}
	return where, args
}

// part is one query of a plan.
type part struct {
	lead    *termJoin // nil: the runs lead
	ordered bool      // the lead is read in its value order (orders[0])
	orders  []OrderBy
	where   []string // extra conditions
	args    []any
	// group, with the runs lead, joins this term and keeps the runs whose
	// value is groupVal (one tie group of the ordering term, see ties.go)
	group    *termJoin
	groupVal any
}

// build writes part p as a page query (LIMIT, OFFSET) or, with count, as
// a count of its rows.
func (q *searchQuery) build(sc scope, p part, count bool, limit, offset int) (string, []any) {
	sqlite := q.d == sqlstore.SQLite
	inner := "JOIN"
	probe := func(col string) string { return col }
	if sqlite {
		inner = "CROSS JOIN"
		probe = func(col string) string { return "+" + col }
	}
	var from strings.Builder
	var joinArgs, whereArgs []any
	var where []string
	joined := map[*termJoin]bool{}
	if p.lead != nil {
		fmt.Fprintf(&from, "%s %s %s runs r ON r.id = %s.run_id", p.lead.table, p.lead.alias, inner, p.lead.alias)
		joined[p.lead] = true
		where = append(where, p.lead.alias+".key = ?")
		whereArgs = append(whereArgs, p.lead.term.Key)
		for _, c := range p.lead.conds {
			s, a := c.sql(p.lead.alias + ".value")
			where, whereArgs = append(where, s), append(whereArgs, a...)
		}
		if p.ordered {
			where = append(where, p.lead.alias+".value IS NOT NULL")
		}
	} else {
		from.WriteString("runs r")
	}
	sw, sa := q.scopeSQL(sc)
	where, whereArgs = append(where, sw...), append(whereArgs, sa...)
	for _, tj := range q.filterTerms {
		if joined[tj] {
			continue
		}
		joined[tj] = true
		fmt.Fprintf(&from, " %s %s %s ON %s.run_id = r.id AND %s.key = ?", inner, tj.table, tj.alias, tj.alias, tj.alias)
		joinArgs = append(joinArgs, tj.term.Key)
		for _, c := range tj.conds {
			s, a := c.sql(probe(tj.alias + ".value"))
			where, whereArgs = append(where, s), append(whereArgs, a...)
		}
	}
	if tj := p.group; tj != nil {
		if !joined[tj] {
			joined[tj] = true
			fmt.Fprintf(&from, " %s %s %s ON %s.run_id = r.id AND %s.key = ?", inner, tj.table, tj.alias, tj.alias, tj.alias)
			joinArgs = append(joinArgs, tj.term.Key)
		}
		where, whereArgs = append(where, probe(tj.alias+".value")+" = ?"), append(whereArgs, p.groupVal)
	}
	for _, c := range q.attrs {
		s, a := c.sql(probe(c.col))
		where, whereArgs = append(where, s), append(whereArgs, a...)
	}
	where, whereArgs = append(where, p.where...), append(whereArgs, p.args...)
	var order []string
	if !count {
		for i, ob := range p.orders {
			col := attributes[ob.Term.Key]
			if ob.Term.Entity != EntityAttribute {
				tj := q.terms[ob.Term]
				if !joined[tj] {
					joined[tj] = true
					fmt.Fprintf(&from, " LEFT JOIN %s %s ON %s.run_id = r.id AND %s.key = ?", tj.table, tj.alias, tj.alias, tj.alias)
					joinArgs = append(joinArgs, tj.term.Key)
				}
				col = tj.alias + ".value"
			}
			dir := " ASC"
			if ob.Desc {
				dir = " DESC"
			}
			if !(p.ordered && i == 0) && !notNullColumns[col] {
				dir += " NULLS LAST"
			}
			order = append(order, col+dir)
		}
		for _, col := range []string{"r.start_ms", "r.id"} {
			if !slices.ContainsFunc(p.orders, func(ob OrderBy) bool { return ob.Term.Entity == EntityAttribute && attributes[ob.Term.Key] == col }) {
				order = append(order, col+" DESC")
			}
		}
	}
	var sb strings.Builder
	if count {
		sb.WriteString("SELECT COUNT(*) FROM ")
	} else {
		// the run id, then its order values (a keyset token names the
		// page's last run by them)
		exprs := q.keyExprs(p, joined)
		sb.WriteString("SELECT r.id")
		for _, e := range exprs {
			sb.WriteString(", " + e.sql)
		}
		sb.WriteString(" FROM ")
		if q.after != nil {
			s, a := afterSQL(q.keys(), exprs, q.after)
			where, whereArgs = append(where, s), append(whereArgs, a...)
		}
	}
	sb.WriteString(from.String())
	if len(where) > 0 {
		sb.WriteString(" WHERE ")
		sb.WriteString(strings.Join(where, " AND "))
	}
	args := append(joinArgs, whereArgs...)
	if !count {
		sb.WriteString(" ORDER BY ")
		sb.WriteString(strings.Join(order, ", "))
		sb.WriteString(" LIMIT ? OFFSET ?")
		args = append(args, limit, offset)
	}
	return sb.String(), args
}

// plan chooses how to read the page (see the comment at the top).
func (q *searchQuery) plan(ctx context.Context, db *sqlstore.DB, sc scope) ([]part, error) {
	var ordTerm *termJoin
	if len(q.orders) > 0 && q.orders[0].Term.Entity != EntityAttribute {
		ordTerm = q.terms[q.orders[0].Term]
	}
	runsLead := []part{{orders: q.orders}}
	if len(q.filterTerms) == 0 && ordTerm == nil {
		return runsLead, nil
	}
	sw, sa := q.scopeSQL(sc)
	sel := "SELECT 1 FROM runs r"
	if len(sw) > 0 {
		sel += " WHERE " + strings.Join(sw, " AND ")
	}
	n, err := cappedCount(ctx, db, sel, sa)
	if err != nil {
		return nil, err
	}
	var lead *termJoin
	for _, tj := range q.filterTerms {
		conds := tj.sargable()
		if len(conds) == 0 {
			continue
		}
		where := []string{"j.key = ?"}
		args := []any{tj.term.Key}
		for _, c := range conds {
			s, a := c.sql("j.value")
			where, args = append(where, s), append(args, a...)
		}
		m, err := cappedCount(ctx, db, "SELECT 1 FROM "+tj.table+" j WHERE "+strings.Join(where, " AND "), args)
		if err != nil {
			return nil, err
		}
		if m < n {
			lead, n = tj, m
		}
	}
	switch {
	case n < smallDriver && lead != nil:
		return []part{{lead: lead, orders: q.orders}}, nil
	case n < smallDriver || ordTerm == nil:
		return runsLead, nil
	}
	parts := []part{{lead: ordTerm, ordered: true, orders: q.orders}}
	if len(ordTerm.conds) == 0 {
		// Runs without a value of the ordering term come last.
		probe := "x.value"
		if q.d == sqlstore.SQLite {
			probe = "+x.value"
		}
		parts = append(parts, part{orders: q.orders[1:],
			where: []string{"NOT EXISTS (SELECT 1 FROM " + ordTerm.table + " x WHERE x.run_id = r.id AND x.key = ? AND " + probe + " IS NOT NULL)"},
			args:  []any{ordTerm.term.Key}})
	}
	return parts, nil
}

// cappedCount counts the rows of sel, stopping at smallDriver.
func cappedCount(ctx context.Context, db *sqlstore.DB, sel string, args []any) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ("+sel+" LIMIT ?) c", append(args, smallDriver)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("plan: %w", err)
	}
	return n, nil
}

// run returns the ids of the page's runs and of the next one when there
// is a next page (up to limit+1), with each one's order values.
func (q *searchQuery) run(ctx context.Context, db *sqlstore.DB) ([]string, [][]any, error) {
	sc, err := q.resolveScope(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	if !sc.all && len(sc.ids) == 0 {
		return nil, nil, nil
	}
	parts, err := q.plan(ctx, db, sc)
	if err != nil {
		return nil, nil, err
	}
	want, offset := q.limit+1, q.offset
	var ids []string
	var keys [][]any
	for i, p := range parts {
		if i > 0 {
			var more bool
			if offset, more, err = q.nextPart(ctx, db, sc, parts[i-1], offset, len(ids)); err != nil {
				return nil, nil, err
			}
			if !more {
				break
			}
		}
		if p.ordered && offset == 0 {
			gids, gkeys, resume, rest, err := q.tieGroups(ctx, db, sc, p, want-len(ids))
			if err != nil {
				return nil, nil, err
			}
			ids, keys = append(ids, gids...), append(keys, gkeys...)
			if len(ids) >= want {
				break
			}
			if !rest {
				continue // the part is read
			}
			saved := q.after
			q.after = resume
			ids, keys, err = q.readPart(ctx, db, sc, p, want, 0, ids, keys)
			q.after = saved
			if err != nil {
				return nil, nil, err
			}
		} else if ids, keys, err = q.readPart(ctx, db, sc, p, want, offset, ids, keys); err != nil {
			return nil, nil, err
		}
		if len(ids) >= want {
			break
		}
	}
	return ids, keys, nil
}

// readPart appends to ids and keys the runs of one plan part's query, up
// to want in all.
func (q *searchQuery) readPart(ctx context.Context, db *sqlstore.DB, sc scope, p part, want, offset int, ids []string, keys [][]any) ([]string, [][]any, error) {
	{
		s, a := q.build(sc, p, false, want-len(ids), offset)
		rows, err := db.QueryContext(ctx, s, a...)
		if err != nil {
			return nil, nil, err
		}
		n := len(q.keys())
		for rows.Next() {
			vals := make([]any, 1+n)
			ptrs := make([]any, 1+n)
			for j := range vals {
				ptrs[j] = &vals[j]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, nil, err
			}
			ids = append(ids, textOf(vals[0]))
			keys = append(keys, vals[1:])
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return ids, keys, nil
}

// textOf is a text column's value as the drivers scan it into an any.
func textOf(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	s, _ := v.(string)
	return s
}

// nextPart is the offset into the next part of a plan, after prev, which
// gave got rows of the page, and whether the next part can hold any
// (unfiltered, the runs without a value are the scope's runs less those
// with one: the scan is skipped when none are).
func (q *searchQuery) nextPart(ctx context.Context, db *sqlstore.DB, sc scope, prev part, offset, got int) (int, bool, error) {
	// The earlier part holds the runs before this one's: skip as many of
	// the offset as it holds (a keyset page has no offset).
	held := offset + got
	if q.after != nil || (got == 0 && offset > 0) {
		s, a := q.build(sc, prev, true, 0, 0)
		if err := db.QueryRowContext(ctx, s, a...).Scan(&held); err != nil {
			return 0, false, err
		}
	}
	if q.after != nil {
		offset = 0
	} else {
		offset = max(0, offset-held)
	}
	if len(q.filterTerms) == 0 && len(q.attrs) == 0 {
		sw, sa := q.scopeSQL(sc)
		s := "SELECT COUNT(*) FROM runs r"
		if len(sw) > 0 {
			s += " WHERE " + strings.Join(sw, " AND ")
		}
		var total int
		if err := db.QueryRowContext(ctx, s, sa...).Scan(&total); err != nil {
			return 0, false, err
		}
		if total <= held {
			return offset, false, nil
		}
	}
	return offset, true, nil
}

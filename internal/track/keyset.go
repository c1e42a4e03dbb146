package track

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Keyset pages. A search's next_page_token names the last run of the page
// by its values of the search's total order (the ordering terms, then
// start time and run id, newest first), and the next page is the runs
// after it in that order: a WHERE condition instead of an OFFSET, so a
// deep page costs what the first one does (an offset of N reads N rows).
// Offset tokens ([EncodePageToken]) are still read, for links that name a
// page by its number.

// orderKey is one column of a search's total order.
type orderKey struct {
	term *termJoin // a metric, parameter or tag; nil: the run column col
	col  string
	desc bool
}

// keys is the search's total order.
func (q *searchQuery) keys() []orderKey {
	var ks []orderKey
	for _, ob := range q.orders {
		k := orderKey{desc: ob.Desc}
		if ob.Term.Entity == EntityAttribute {
			k.col = attributes[ob.Term.Key]
		} else {
			k.term = q.terms[ob.Term]
		}
		ks = append(ks, k)
	}
	for _, col := range []string{"r.start_ms", "r.id"} {
		if !slices.ContainsFunc(ks, func(k orderKey) bool { return k.term == nil && k.col == col }) {
			ks = append(ks, orderKey{col: col, desc: true})
		}
	}
	return ks
}

// keyExpr is an order key as one query of a plan reads it.
type keyExpr struct {
	sql     string // "NULL" when the query's runs have no value of it
	null    bool   // every run of the query lacks a value
	notNull bool   // every run of the query has a value
}

// keyExprs are the plan part's expressions of the total order; joined
// says which terms the part's query joins.
func (q *searchQuery) keyExprs(p part, joined map[*termJoin]bool) []keyExpr {
	var out []keyExpr
	for _, k := range q.keys() {
		switch {
		case k.term == nil:
			out = append(out, keyExpr{sql: k.col, notNull: notNullColumns[k.col]})
		case joined[k.term]:
			out = append(out, keyExpr{sql: k.term.alias + ".value", notNull: p.ordered && p.lead == k.term})
		default: // the part of the runs without a value of the first term
			out = append(out, keyExpr{sql: "NULL", null: true})
		}
	}
	return out
}

// afterSQL is the condition selecting the runs after the one whose order
// values are vals (NULLs last), and a bound on the first key an index can
// range over.
func afterSQL(keys []orderKey, exprs []keyExpr, vals []any) (string, []any) {
	var at func(i int) (string, []any)
	at = func(i int) (string, []any) {
		if i == len(keys) {
			return "1 = 0", nil // the run itself is not after itself
		}
		e, v := exprs[i], vals[i]
		rest, ra := at(i + 1)
		switch {
		case e.null && v == nil:
			return rest, ra
		case e.null:
			return "1 = 1", nil // no value sorts after every value
		case v == nil && e.notNull:
			return "1 = 0", nil
		case v == nil:
			return "(" + e.sql + " IS NULL AND " + rest + ")", ra
		}
		op := " > ?"
		if keys[i].desc {
			op = " < ?"
		}
		s := "(" + e.sql + op
		if !e.notNull {
			s += " OR " + e.sql + " IS NULL"
		}
		s += " OR (" + e.sql + " = ? AND " + rest + "))"
		return s, append([]any{v, v}, ra...)
	}
	s, args := at(0)
	if e, v := exprs[0], vals[0]; e.notNull && v != nil {
		bound := " >= ?"
		if keys[0].desc {
			bound = " <= ?"
		}
		s = e.sql + bound + " AND " + s
		args = append([]any{v}, args...)
	}
	return s, args
}

// keysetPrefix marks a keyset page token.
const keysetPrefix = "after:"

// encodeAfter is the page token of the runs after the one with order
// values vals; ok is false for a value of a type no column holds.
func encodeAfter(vals []any) (tok string, ok bool) {
	enc := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			enc[i] = "n"
		case int64:
			enc[i] = "i" + strconv.FormatInt(x, 10)
		case float64:
			enc[i] = "f" + strconv.FormatFloat(x, 'g', -1, 64) // NaN and ±Inf too
		case string:
			enc[i] = "s" + x
		case []byte:
			enc[i] = "s" + string(x)
		default:
			return "", false
		}
	}
	b, _ := json.Marshal(enc) // strings only
	return base64.RawURLEncoding.EncodeToString(append([]byte(keysetPrefix), b...)), true
}

// decodeAfter reads a keyset token of n order values; ok is false when
// tok is not a keyset token.
func decodeAfter(tok string, n int) (vals []any, ok bool, err error) {
	b, derr := base64.RawURLEncoding.DecodeString(tok)
	rest, isKeyset := strings.CutPrefix(string(b), keysetPrefix)
	if derr != nil || !isKeyset {
		return nil, false, nil
	}
	bad := fmt.Errorf("%w %q: pass the next_page_token of a previous page of the same search", ErrBadPageToken, tok)
	var enc []string
	if json.Unmarshal([]byte(rest), &enc) != nil || len(enc) != n {
		return nil, true, bad
	}
	vals = make([]any, n)
	for i, s := range enc {
		if s == "" {
			return nil, true, bad
		}
		switch s[0] {
		case 'n':
			vals[i] = nil
		case 'i':
			v, err := strconv.ParseInt(s[1:], 10, 64)
			if err != nil {
				return nil, true, bad
			}
			vals[i] = v
		case 'f':
			v, err := strconv.ParseFloat(s[1:], 64)
			if err != nil {
				return nil, true, bad
			}
			vals[i] = v
		case 's':
			vals[i] = s[1:]
		default:
			return nil, true, bad
		}
	}
	return vals, true, nil
}

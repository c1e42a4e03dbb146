package registry

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Condition is one comparison of a registry search filter.
type Condition struct {
	// Key is an attribute (name, run_id, source_path, version_number) or
	// "tags." followed by a tag key.
	Key string
	// Op is = != < <= > >= LIKE ILIKE IN or NOT IN.
	Op string
	// Values holds one value, or several for IN: strings, or int64 for
	// version_number.
	Values []any
}

// FilterError reports a malformed search filter.
type FilterError struct {
	Filter string
	Pos    int
	Msg    string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter %q: at offset %d: %s", e.Filter, e.Pos, e.Msg)
}

// Unwrap makes a FilterError match ErrInvalid.
func (e *FilterError) Unwrap() error { return ErrInvalid }

// ParseFilter parses MLflow's registry search syntax: conditions joined by
// AND, each "KEY OP 'value'" or "KEY IN ('a', 'b')", where attrs lists the
// attributes allowed besides tags.KEY (numeric ones compare with numbers).
func ParseFilter(s string, attrs map[string]bool) ([]Condition, error) {
	p := &filterParser{s: s}
	var out []Condition
	p.space()
	if p.i == len(s) {
		return nil, nil
	}
	for {
		c, err := p.condition(attrs)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		p.space()
		if p.i == len(s) {
			return out, nil
		}
		start := p.i
		if w := p.word(); !strings.EqualFold(w, "and") {
			return nil, &FilterError{s, start, fmt.Sprintf("want AND or the end of the filter, got %q", w)}
		}
	}
}

type filterParser struct {
	s string
	i int
}

func (p *filterParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *filterParser) word() string {
	p.space()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

func (p *filterParser) quoted() (string, error) {
	q := p.s[p.i]
	start := p.i
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", &FilterError{p.s, start, "unterminated string"}
		}
		c := p.s[p.i]
		if c == q {
			if p.i+1 < len(p.s) && p.s[p.i+1] == q {
				b.WriteByte(q)
				p.i += 2
				continue
			}
			p.i++
			return b.String(), nil
		}
		b.WriteByte(c)
		p.i++
	}
}

func (p *filterParser) condition(attrs map[string]bool) (Condition, error) {
	p.space()
	start := p.i
	key := p.word()
	if ent, rest, ok := strings.Cut(key, "."); ok && (ent == "tags" || ent == "tag") {
		if rest == "" && p.i < len(p.s) && (p.s[p.i] == '`' || p.s[p.i] == '"') {
			k, err := p.quoted()
			if err != nil {
				return Condition{}, err
			}
			rest = k
		}
		if rest == "" {
			return Condition{}, &FilterError{p.s, start, "want a tag key after tags."}
		}
		key = "tags." + rest
	} else {
		key = strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(key), "attributes."), "attribute.")
		if _, ok := attrs[key]; !ok {
			names := make([]string, 0, len(attrs))
			for a := range attrs {
				names = append(names, a)
			}
			return Condition{}, &FilterError{p.s, start, fmt.Sprintf("unknown key %q: want tags.KEY or one of %s", key, strings.Join(sorted(names), ", "))}
		}
	}
	numeric := attrs[key]
	p.space()
	opStart := p.i
	var op string
	switch {
	case strings.HasPrefix(p.s[p.i:], "!="), strings.HasPrefix(p.s[p.i:], "<="), strings.HasPrefix(p.s[p.i:], ">="):
		op = p.s[p.i : p.i+2]
		p.i += 2
	case p.i < len(p.s) && strings.IndexByte("=<>", p.s[p.i]) >= 0:
		op = p.s[p.i : p.i+1]
		p.i++
	default:
		w := strings.ToUpper(p.word())
		if w == "NOT" {
			if strings.ToUpper(p.word()) != "IN" {
				return Condition{}, &FilterError{p.s, opStart, "want IN after NOT"}
			}
			w = "NOT IN"
		}
		op = w
	}
	switch op {
	case "=", "!=", "LIKE", "ILIKE", "IN", "NOT IN":
	case "<", "<=", ">", ">=":
		if !numeric {
			return Condition{}, &FilterError{p.s, opStart, fmt.Sprintf("%s supports = != LIKE ILIKE IN, not %s", key, op)}
		}
	default:
		return Condition{}, &FilterError{p.s, opStart, fmt.Sprintf("want an operator (= != LIKE ILIKE IN) after %s, got %q", key, op)}
	}
	if numeric && (op == "LIKE" || op == "ILIKE") {
		return Condition{}, &FilterError{p.s, opStart, fmt.Sprintf("%s is numeric: LIKE does not apply", key)}
	}
	c := Condition{Key: key, Op: op}
	value := func() error {
		p.space()
		vs := p.i
		if p.i >= len(p.s) {
			return &FilterError{p.s, vs, "want a value"}
		}
		if numeric {
			w := p.word()
			if w == "" && (p.s[p.i] == '\'' || p.s[p.i] == '"') {
				q, err := p.quoted()
				if err != nil {
					return err
				}
				w = q
			}
			n, err := strconv.ParseInt(w, 10, 64)
			if err != nil {
				return &FilterError{p.s, vs, fmt.Sprintf("%s compares with a whole number, got %q", key, w)}
			}
			c.Values = append(c.Values, n)
			return nil
		}
		if p.s[p.i] != '\'' && p.s[p.i] != '"' {
			return &FilterError{p.s, vs, fmt.Sprintf("%s compares with a quoted string, as in %s = 'value'", key, key)}
		}
		v, err := p.quoted()
		if err != nil {
			return err
		}
		c.Values = append(c.Values, v)
		return nil
	}
	if op == "IN" || op == "NOT IN" {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '(' {
			return Condition{}, &FilterError{p.s, p.i, "want ( after IN"}
		}
		p.i++
		for {
			if err := value(); err != nil {
				return Condition{}, err
			}
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.i >= len(p.s) || p.s[p.i] != ',' {
				return Condition{}, &FilterError{p.s, p.i, "want , or ) in an IN list"}
			}
			p.i++
		}
	} else if err := value(); err != nil {
		return Condition{}, err
	}
	return c, nil
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

// Search selects, orders and pages models or versions.
type Search struct {
	// Filter is MLflow's registry filter syntax.
	Filter string
	// OrderBy holds "ATTRIBUTE [ASC|DESC]" terms.
	OrderBy []string
	// Limit is the page size (default 100, at most 10,000 for versions
	// and 1,000 for models, MLflow's limits).
	Limit     int
	PageToken string
}

func encodeToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func decodeToken(tok string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		if s, ok := strings.CutPrefix(string(b), "offset:"); ok {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("invalid page token %q: pass the next_page_token of a previous page: %w", tok, ErrInvalid)
}

// searchSQL compiles conditions and ordering into a query over table
// (aliased t) whose tag table is joined on tagJoin; cols maps attributes
// to columns.
func searchSQL(s Search, attrs map[string]bool, cols map[string]string, sel, tagTable, tagJoin string, defOrder []string, maxLimit int) (string, []any, int, int, error) {
	limit := s.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > maxLimit {
		return "", nil, 0, 0, fmt.Errorf("max_results %d: at most %d: %w", limit, maxLimit, ErrInvalid)
	}
	offset := 0
	if s.PageToken != "" {
		var err error
		if offset, err = decodeToken(s.PageToken); err != nil {
			return "", nil, 0, 0, err
		}
	}
	conds, err := ParseFilter(s.Filter, attrs)
	if err != nil {
		return "", nil, 0, 0, err
	}
	var joins, where []string
	var jargs, wargs []any
	for i, c := range conds {
		col := cols[c.Key]
		if k, ok := strings.CutPrefix(c.Key, "tags."); ok {
			a := "g" + strconv.Itoa(i)
			joins = append(joins, fmt.Sprintf("JOIN %s %s ON %s AND %s.key = ?", tagTable, a, strings.ReplaceAll(tagJoin, "$", a), a))
			jargs = append(jargs, k)
			col = a + ".value"
		}
		switch c.Op {
		case "IN", "NOT IN":
			where = append(where, fmt.Sprintf("%s %s (%s)", col, c.Op, strings.TrimSuffix(strings.Repeat("?, ", len(c.Values)), ", ")))
			wargs = append(wargs, c.Values...)
		case "ILIKE":
			where = append(where, "LOWER("+col+") LIKE LOWER(?)")
			wargs = append(wargs, c.Values[0])
		default:
			where = append(where, col+" "+c.Op+" ?")
			wargs = append(wargs, c.Values[0])
		}
	}
	var order []string
	for _, ob := range s.OrderBy {
		f := strings.Fields(ob)
		if len(f) == 0 || len(f) > 2 {
			return "", nil, 0, 0, fmt.Errorf("order by %q: want ATTRIBUTE [ASC|DESC]: %w", ob, ErrInvalid)
		}
		key := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(f[0]), "attributes."), "attribute.")
		col, ok := cols[key]
		if !ok || key == "source_path" || key == "run_id" {
			return "", nil, 0, 0, fmt.Errorf("order by %q: unknown attribute %q: %w", ob, f[0], ErrInvalid)
		}
		dir := "ASC"
		if len(f) == 2 {
			switch d := strings.ToUpper(f[1]); d {
			case "ASC", "DESC":
				dir = d
			default:
				return "", nil, 0, 0, fmt.Errorf("order by %q: direction %q: want ASC or DESC: %w", ob, f[1], ErrInvalid)
			}
		}
		order = append(order, col+" "+dir)
	}
	order = append(order, defOrder...)
	q := sel + " " + strings.Join(joins, " ")
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	return q, append(append(jargs, wargs...), limit+1, offset), limit, offset, nil
}

var (
	modelAttrs = map[string]bool{"name": false}
	modelCols  = map[string]string{"name": "t.name", "creation_timestamp": "t.created_ms", "timestamp": "t.created_ms",
		"last_updated_timestamp": "t.updated_ms"}
	versionAttrs = map[string]bool{"name": false, "run_id": false, "source_path": false, "version_number": true}
	versionCols  = map[string]string{"name": "t.model", "run_id": "t.run_id", "source_path": "t.source", "version_number": "t.version",
		"creation_timestamp": "t.created_ms", "timestamp": "t.created_ms", "last_updated_timestamp": "t.updated_ms"}
)

// SearchModels returns one page of registered models matching s (name and
// tags.KEY filters; order by name, creation_timestamp or
// last_updated_timestamp, default name), and the next page's token.
func (r *Registry) SearchModels(ctx context.Context, s Search) ([]Model, string, error) {
	q, args, limit, offset, err := searchSQL(s, modelAttrs, modelCols, "SELECT t.name FROM registered_models t", "model_tags",
		"$.model = t.name", []string{"t.name ASC"}, 1000)
	if err != nil {
		return nil, "", fmt.Errorf("search models: %w", err)
	}
	names, err := r.queryStrings(ctx, q, args)
	if err != nil {
		return nil, "", fmt.Errorf("search models: %w", err)
	}
	next := ""
	if len(names) > limit {
		names, next = names[:limit], encodeToken(offset+limit)
	}
	out := make([]Model, 0, len(names))
	for _, n := range names {
		m, err := r.Model(ctx, n)
		if err != nil {
			return nil, "", fmt.Errorf("search models: %w", err)
		}
		out = append(out, *m)
	}
	return out, next, nil
}

// SearchVersions returns one page of model versions matching s (name,
// run_id, source_path, version_number and tags.KEY filters; newest first
// by default), and the next page's token.
func (r *Registry) SearchVersions(ctx context.Context, s Search) ([]Version, string, error) {
	q, args, limit, offset, err := searchSQL(s, versionAttrs, versionCols, "SELECT t.model, t.version FROM model_versions t", "model_version_tags",
		"$.model = t.model AND $.version = t.version", []string{"t.updated_ms DESC", "t.model ASC", "t.version DESC"}, 10000)
	if err != nil {
		return nil, "", fmt.Errorf("search model versions: %w", err)
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("search model versions: %w", err)
	}
	type key struct {
		name string
		v    int64
	}
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.name, &k.v); err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("search model versions: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("search model versions: %w", err)
	}
	next := ""
	if len(keys) > limit {
		keys, next = keys[:limit], encodeToken(offset+limit)
	}
	out := make([]Version, 0, len(keys))
	for _, k := range keys {
		v, err := r.Version(ctx, k.name, k.v)
		if err != nil {
			return nil, "", fmt.Errorf("search model versions: %w", err)
		}
		out = append(out, *v)
	}
	return out, next, nil
}

func (r *Registry) queryStrings(ctx context.Context, q string, args []any) ([]string, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// LatestVersions returns, for each stage asked (all four when none), the
// model's highest version in that stage, in stage order.
func (r *Registry) LatestVersions(ctx context.Context, name string, stages []string) ([]Version, error) {
	if _, err := r.Model(ctx, name); err != nil {
		return nil, err
	}
	if len(stages) == 0 {
		stages = []string{StageNone, StageStaging, StageProduction, StageArchived}
	}
	var out []Version
	seen := map[string]bool{}
	for _, s := range stages {
		st, err := ParseStage(s)
		if err != nil {
			return nil, fmt.Errorf("latest versions of %s: %w", name, err)
		}
		if seen[st] {
			continue
		}
		seen[st] = true
		var v int64
		err = r.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model = ? AND stage = ?", name, st).Scan(&v)
		if err != nil {
			return nil, fmt.Errorf("latest versions of %s: %w", name, err)
		}
		if v == 0 {
			continue
		}
		mv, err := r.Version(ctx, name, v)
		if err != nil {
			return nil, fmt.Errorf("latest versions of %s: %w", name, err)
		}
		out = append(out, *mv)
	}
	return out, nil
}

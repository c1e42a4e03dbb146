package track

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Entity is what a filter or ordering term refers to.
type Entity string

// Entities of filter and order-by terms.
const (
	EntityMetric    Entity = "metrics"
	EntityParam     Entity = "params"
	EntityTag       Entity = "tags"
	EntityAttribute Entity = "attributes"
)

// attributes maps attribute names users write to run columns.
var attributes = map[string]string{
	"status":     "r.status",
	"name":       "r.name",
	"run_name":   "r.name",
	"run name":   "r.name", // MLflow's alias, as attributes.`Run Name`
	"run_id":     "r.id",
	"id":         "r.id",
	"parent_id":  "r.parent_id",
	"user":       "r.user_name",
	"user_id":    "r.user_name",
	"created":    "r.start_ms",
	"start_time": "r.start_ms",
	"end_time":   "r.end_ms",
	"command":    "r.command",
	"git_commit": "r.git_commit",
	"version":    "r.gyre_version",
}

func numericAttribute(col string) bool { return col == "r.start_ms" || col == "r.end_ms" }

// unquoteKey strips the backticks or double quotes around the key of
// entity.`key` or entity."key".
func unquoteKey(s string) string {
	ent, key, ok := strings.Cut(s, ".")
	if ok && len(key) >= 2 && (key[0] == '`' || key[0] == '"') && key[len(key)-1] == key[0] {
		return ent + "." + key[1:len(key)-1]
	}
	return strings.Trim(s, "`")
}

// Term names a metric, parameter, tag or run attribute.
type Term struct {
	Entity Entity
	Key    string
}

func (t Term) String() string { return string(t.Entity) + "." + t.Key }

// Condition is one comparison of a filter.
type Condition struct {
	Term Term
	// Op is one of = != < <= > >= LIKE ILIKE IN.
	Op string
	// Values holds one value, or several for IN; a value is a float64 or a
	// string.
	Values []any
}

// Filter is a conjunction of conditions.
type Filter []Condition

// FilterError reports where a filter is malformed.
type FilterError struct {
	Filter string
	Pos    int // byte offset
	Msg    string
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("filter %q: at offset %d: %s", e.Filter, e.Pos, e.Msg)
}

type token struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'o' operator, '(' ')' ',', 0 end
	text string
	pos  int
}

func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, token{kind: c, text: string(c), pos: i})
			i++
		case c == '\'' || c == '"':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(s) {
					return nil, &FilterError{s, i, "unterminated string"}
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // doubled quote escapes itself
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{kind: 's', text: b.String(), pos: i})
			i = j + 1
		case c == '=' || c == '!' || c == '<' || c == '>':
			op, n := string(c), 1
			if i+1 < len(s) && s[i+1] == '=' {
				op, n = op+"=", 2
			} else if c == '<' && i+1 < len(s) && s[i+1] == '>' {
				op, n = "!=", 2
			}
			if op == "!" {
				return nil, &FilterError{s, i, "'!' must be followed by '='"}
			}
			if op == "==" {
				op = "="
			}
			toks = append(toks, token{kind: 'o', text: op, pos: i})
			i += n
		case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
				(s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			toks = append(toks, token{kind: 'n', text: s[i:j], pos: i})
			i = j
		case c == '`':
			return nil, &FilterError{s, i, "a quoted key must follow an entity, as in metrics.`my key`"}
		case unicode.IsLetter(rune(c)) || c == '_':
			// entity.key, where key may be `quoted`, "quoted", 'quoted'
			// (MLflow's older docs) or bare
			// (letters, digits and - _ . / :).
			j := i
			for j < len(s) && (isIdent(s[j]) || s[j] == '.') {
				j++
			}
			text := s[i:j]
			if j < len(s) && strings.HasSuffix(text, ".") && (s[j] == '`' || s[j] == '"' || s[j] == '\'') {
				q := s[j]
				k := strings.IndexByte(s[j+1:], q)
				if k < 0 {
					return nil, &FilterError{s, j, "unterminated quoted key"}
				}
				text += s[j+1 : j+1+k]
				j += k + 2
			}
			toks = append(toks, token{kind: 'i', text: text, pos: i})
			i = j
		default:
			return nil, &FilterError{s, i, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	toks = append(toks, token{pos: len(s)})
	return toks, nil
}

func isIdent(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '/' || c == ':'
}

// ParseTerm parses "metrics.x", "params.x", "tags.x", "attributes.x" or a bare
// attribute name (status, name, run_id, start_time, end_time, user, ...).
// Singular entity names (metric, param, tag, attribute, attr, run) are
// accepted too.
func ParseTerm(s string) (Term, error) {
	ent, key, ok := strings.Cut(s, ".")
	if !ok {
		ent, key = "attributes", s
	}
	var e Entity
	switch strings.ToLower(ent) {
	case "metrics", "metric":
		e = EntityMetric
	case "params", "param", "parameters", "parameter":
		e = EntityParam
	case "tags", "tag":
		e = EntityTag
	case "attributes", "attribute", "attr", "run":
		e = EntityAttribute
	default:
		return Term{}, fmt.Errorf("unknown entity %q in %q: want metrics., params., tags. or an attribute such as status", ent, s)
	}
	if key == "" {
		return Term{}, fmt.Errorf("missing key after %q", ent+".")
	}
	if e == EntityAttribute {
		key = strings.ToLower(key)
		if _, ok := attributes[key]; !ok {
			return Term{}, fmt.Errorf("unknown attribute %q: want one of status, name, run_id, parent_id, user, start_time, end_time, command, git_commit, version", key)
		}
	}
	return Term{Entity: e, Key: key}, nil
}

// ParseFilter parses a filter: conditions joined by "and", each
// "TERM OP VALUE" with OP one of = != < <= > >= LIKE ILIKE, or
// "TERM IN (V, ...)". Metrics compare with numbers; parameters, tags and
// attributes with quoted strings (= != LIKE ILIKE IN); start_time and
// end_time with unix milliseconds. An empty filter matches every run.
func ParseFilter(s string) (Filter, error) {
	return parseFilter(s, ParseTerm, func(t Term) bool {
		return t.Entity == EntityMetric || t.Entity == EntityAttribute && numericAttribute(attributes[t.Key])
	})
}

// parseFilter parses conditions joined by AND, resolving terms with term
// and comparing those numeric says are numbers with numbers.
func parseFilter(s string, parseTerm func(string) (Term, error), isNumeric func(Term) bool) (Filter, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	var f Filter
	i := 0
	next := func() token { t := toks[i]; i++; return t }
	peek := func() token { return toks[i] }
	if peek().kind == 0 {
		return nil, nil
	}
	for {
		tt := next()
		if tt.kind != 'i' {
			return nil, &FilterError{s, tt.pos, fmt.Sprintf("want a term such as metrics.roc_auc, got %q", tt.text)}
		}
		term, err := parseTerm(tt.text)
		if err != nil {
			return nil, &FilterError{s, tt.pos, err.Error()}
		}
		ot := next()
		op := ot.text
		switch {
		case ot.kind == 'o':
		case ot.kind == 'i' && (strings.EqualFold(op, "like") || strings.EqualFold(op, "ilike") || strings.EqualFold(op, "in")):
			op = strings.ToUpper(op)
		case ot.kind == 'i' && strings.EqualFold(op, "not"):
			nt := next()
			if !strings.EqualFold(nt.text, "in") {
				return nil, &FilterError{s, nt.pos, "want IN after NOT"}
			}
			op = "NOT IN"
		default:
			return nil, &FilterError{s, ot.pos, fmt.Sprintf("want an operator (= != < <= > >= LIKE ILIKE IN) after %s, got %q", tt.text, ot.text)}
		}
		cond := Condition{Term: term, Op: op}
		numeric := isNumeric(term)
		value := func() error {
			vt := next()
			switch {
			case vt.kind == 'n' && numeric:
				v, err := strconv.ParseFloat(vt.text, 64)
				if err != nil {
					return &FilterError{s, vt.pos, fmt.Sprintf("bad number %q", vt.text)}
				}
				cond.Values = append(cond.Values, v)
			case vt.kind == 's' && !numeric:
				cond.Values = append(cond.Values, vt.text)
			case numeric:
				return &FilterError{s, vt.pos, fmt.Sprintf("%s compares with a number, got %q", term, vt.text)}
			default:
				return &FilterError{s, vt.pos, fmt.Sprintf("%s compares with a quoted string, got %q (write '%s')", term, vt.text, vt.text)}
			}
			return nil
		}
		if op == "IN" || op == "NOT IN" {
			if t := next(); t.kind != '(' {
				return nil, &FilterError{s, t.pos, "want ( after IN"}
			}
			for {
				if err := value(); err != nil {
					return nil, err
				}
				t := next()
				if t.kind == ')' {
					break
				}
				if t.kind != ',' {
					return nil, &FilterError{s, t.pos, "want , or ) in an IN list"}
				}
			}
		} else if err := value(); err != nil {
			return nil, err
		}
		if !numeric {
			switch op {
			case "=", "!=", "LIKE", "ILIKE", "IN", "NOT IN":
			default:
				return nil, &FilterError{s, ot.pos, fmt.Sprintf("%s supports = != LIKE ILIKE IN, not %s", term, op)}
			}
		} else if op == "LIKE" || op == "ILIKE" {
			return nil, &FilterError{s, ot.pos, fmt.Sprintf("%s is numeric: LIKE does not apply", term)}
		}
		f = append(f, cond)
		t := next()
		if t.kind == 0 {
			return f, nil
		}
		if t.kind != 'i' || !strings.EqualFold(t.text, "and") {
			return nil, &FilterError{s, t.pos, fmt.Sprintf("want AND or the end of the filter, got %q", t.text)}
		}
	}
}

// OrderBy is one ordering term.
type OrderBy struct {
	Term Term
	Desc bool
}

// ParseOrderBy parses "metrics.roc_auc DESC", "params.learner",
// "start_time asc" and the like. Without a direction, metrics and
// start_time sort descending (best or newest first) and the rest ascending.
func ParseOrderBy(s string) (OrderBy, error) {
	return parseOrderBy(s, nil)
}

// ParseOrderByASC parses an ordering term as MLflow does: without a
// direction, every term sorts ascending.
func ParseOrderByASC(s string) (OrderBy, error) {
	asc := false
	return parseOrderBy(s, &asc)
}

func parseOrderBy(s string, defaultDesc *bool) (OrderBy, error) {
	term := strings.TrimSpace(s)
	dir := ""
	if i := strings.LastIndexAny(term, " \t"); i >= 0 {
		if d := strings.ToUpper(term[i+1:]); d == "ASC" || d == "DESC" {
			dir, term = d, strings.TrimSpace(term[:i])
		} else if !strings.ContainsAny(term, "`\"") {
			return OrderBy{}, fmt.Errorf("order by %q: direction %q: want ASC or DESC", s, term[i+1:])
		}
	}
	if term == "" {
		return OrderBy{}, fmt.Errorf("order by %q: want TERM [ASC|DESC]", s)
	}
	t, err := ParseTerm(unquoteKey(term))
	if err != nil {
		return OrderBy{}, fmt.Errorf("order by %q: %w", s, err)
	}
	o := OrderBy{Term: t, Desc: t.Entity == EntityMetric || t.Entity == EntityAttribute && (t.Key == "start_time" || t.Key == "end_time")}
	if defaultDesc != nil {
		o.Desc = *defaultDesc
	}
	if dir != "" {
		o.Desc = dir == "DESC"
	}
	return o, nil
}

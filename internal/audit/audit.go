package audit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Actor kinds.
const (
	// KindUser is a person authenticated by the team server.
	KindUser = "user"
	// KindService is a service account authenticated by the team server.
	KindService = "service"
	// KindLocal is whoever runs a command against the store directly.
	KindLocal = "local"
)

// Actor is who makes a write and from where.
type Actor struct {
	// Name is the user or service account name.
	Name string `json:"name"`
	// Kind is KindUser, KindService or KindLocal.
	Kind string `json:"kind"`
	// Remote is the client's address for writes through the server, empty
	// for local commands.
	Remote string `json:"remote,omitempty"`
}

type actorKey struct{}

// WithActor returns a context whose writes are attributed to a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor set by [WithActor], or the local user
// ([LocalUser], kind KindLocal) when there is none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Name != "" {
		return a
	}
	return Actor{Name: LocalUser(), Kind: KindLocal}
}

// osUser is the OS user name, looked up once (os/user caches it too).
var osUser = sync.OnceValue(func() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
})

// LocalUser returns the name local commands act as: GYRE_USER, else the OS
// user name, else "unknown". It is the one current-user lookup in Gyre.
// GYRE_USER is read on every call, so a process (or a test) that sets it
// acts as that user from then on.
func LocalUser() string {
	if u := os.Getenv("GYRE_USER"); u != "" {
		return u
	}
	if u := osUser(); u != "" {
		return u
	}
	return "unknown"
}

// Entry is one audited write.
type Entry struct {
	// ID orders entries by time; set by [Record].
	ID string `json:"id"`
	// Time is when the write happened; set by [Record] when zero.
	Time time.Time `json:"time"`
	// Actor made the write; taken from the context by [Record].
	Actor Actor `json:"actor"`
	// Action names the write, dot-separated from the resource kind:
	// "model.alias.set", "run.create", "token.revoke".
	Action string `json:"action"`
	// ResourceKind is "experiment", "run", "model", "dataset", "user",
	// "token" or "server".
	ResourceKind string `json:"resource_kind"`
	// Resource is the resource's name or id ("adult-income", a run id).
	Resource string `json:"resource"`
	// Before and After are JSON values of what changed, null when the
	// resource did not exist before or does not exist after.
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// ErrInvalid reports an entry without an action or resource.
var ErrInvalid = errors.New("invalid audit entry")

// Record appends e to the audit trail inside tx, the transaction of the
// write it records, attributed to the context's actor. before and after
// are marshalled to JSON (nil for none).
func Record(ctx context.Context, tx *sqlstore.Tx, action, kind, resource string, before, after any) error {
	e := Entry{Action: action, ResourceKind: kind, Resource: resource}
	var err error
	if e.Before, err = marshal(before); err != nil {
		return fmt.Errorf("audit %s %s: before: %w", action, resource, err)
	}
	if e.After, err = marshal(after); err != nil {
		return fmt.Errorf("audit %s %s: after: %w", action, resource, err)
	}
	return RecordEntry(ctx, tx, e)
}

// RecordEntry appends a prepared entry inside tx. Its ID is assigned here;
// its Actor, when empty, is the context's and its Time, when zero, now.
func RecordEntry(ctx context.Context, tx *sqlstore.Tx, e Entry) error {
	if err := e.stamp(ctx); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (`+ColumnList+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.values()...)
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", e.Action, e.Resource, err)
	}
	return nil
}

// RecordEntries appends prepared entries inside tx, as [RecordEntry] does
// one by one, in multi-row statements (a group commit's entries, each with
// its own caller as the actor).
func RecordEntries(ctx context.Context, tx *sqlstore.Tx, es []Entry) error {
	const per = 50 // rows per statement: 500 parameters
	for lo := 0; lo < len(es); lo += per {
		hi := min(lo+per, len(es))
		var sb strings.Builder
		sb.WriteString(`INSERT INTO audit_log (` + ColumnList + `) VALUES `)
		args := make([]any, 0, 10*(hi-lo))
		for i := lo; i < hi; i++ {
			e := es[i]
			if err := e.stamp(ctx); err != nil {
				return err
			}
			if i > lo {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, e.values()...)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("audit %s %s and %d more: %w", es[lo].Action, es[lo].Resource, len(es)-lo-1, err)
		}
	}
	return nil
}

// stamp checks that e names an action and a resource kind, sets its actor
// (the context's) and time (now) when unset, and gives it an id.
func (e *Entry) stamp(ctx context.Context) error {
	if e.Action == "" || e.ResourceKind == "" {
		return fmt.Errorf("audit: %w: want an action and a resource kind", ErrInvalid)
	}
	if e.Actor.Name == "" {
		e.Actor = ActorFrom(ctx)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.ID = newID(e.Time.UnixMilli())
	return nil
}

// values is a stamped entry's row in the order of [ColumnList].
func (e *Entry) values() []any {
	out := []any{e.ID, e.Time.UnixMilli()}
	for _, v := range e.texts() {
		out = append(out, v)
	}
	return out
}

// texts is the entry's text columns, those of [ColumnList] after id and
// ts_ms.
func (e *Entry) texts() [8]string {
	return [8]string{e.Actor.Name, e.Actor.Kind, e.Actor.Remote, e.Action, e.ResourceKind, e.Resource,
		string(e.Before), string(e.After)}
}

// Unnest is the PostgreSQL row source of the arrays [Columns] returns, in
// the order of ColumnList: a statement of a writer's own (one that also
// inserts what the entries record) can append them with
// "INSERT INTO audit_log (" + ColumnList + ") SELECT * FROM " + Unnest.
const Unnest = "unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])"

// ColumnList names the audit_log columns of [Columns]' arrays.
const ColumnList = "id, ts_ms, actor, actor_kind, remote, action, resource_kind, resource, before_json, after_json"

// Columns returns entries as the ten column arrays [Unnest] takes,
// checked, stamped and given ids as [RecordEntries] does.
func Columns(ctx context.Context, es []Entry) ([]any, error) {
	ids, ts := make([]string, len(es)), make([]int64, len(es))
	var text [8][]string
	for i := range text {
		text[i] = make([]string, len(es))
	}
	for i, e := range es {
		if err := e.stamp(ctx); err != nil {
			return nil, err
		}
		ids[i], ts[i] = e.ID, e.Time.UnixMilli()
		for j, v := range e.texts() {
			text[j][i] = v
		}
	}
	out := []any{ids, ts}
	for _, c := range text {
		out = append(out, c)
	}
	return out, nil
}

func marshal(v any) (json.RawMessage, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return v, nil
	}
	return json.Marshal(v)
}

// newID returns a 13-digit unix-millisecond prefix and 12 random hex
// digits: ids sort by time and never collide in practice.
func newID(ms int64) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := strconv.FormatInt(ms, 10)
	if len(s) < 13 {
		s = strings.Repeat("0", 13-len(s)) + s
	}
	return s + "-" + hex.EncodeToString(b[:])
}

// Query selects entries; zero fields do not filter.
type Query struct {
	// ResourceKind and Resource select one resource (or every resource
	// of a kind when Resource is empty).
	ResourceKind string
	Resource     string
	// Actor selects one actor's writes.
	Actor string
	// ActionPrefix selects actions starting with it ("model." or
	// "model.alias.set").
	ActionPrefix string
	// Since and Until bound the time (Until exclusive).
	Since, Until time.Time
	// Limit caps the page (default 100, at most 1,000).
	Limit int
	// PageToken continues a previous page: the NextPageToken it returned.
	PageToken string
}

// ErrBadPageToken reports a page token that [List] did not issue.
var ErrBadPageToken = errors.New("invalid page token")

// List returns entries newest first and a token for the next page ("" on
// the last page).
func List(ctx context.Context, db *sqlstore.DB, q Query) ([]Entry, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if q.ResourceKind != "" {
		add("resource_kind = ?", q.ResourceKind)
	}
	if q.Resource != "" {
		add("resource = ?", q.Resource)
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if q.ActionPrefix != "" {
		add("substr(action, 1, ?) = ?", len(q.ActionPrefix))
		args = append(args, q.ActionPrefix)
	}
	if !q.Since.IsZero() {
		add("ts_ms >= ?", q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		add("ts_ms < ?", q.Until.UnixMilli())
	}
	if q.PageToken != "" {
		if len(q.PageToken) != 26 || q.PageToken[13] != '-' {
			return nil, "", fmt.Errorf("audit list: page token %q: %w", q.PageToken, ErrBadPageToken)
		}
		add("id < ?", q.PageToken)
	}
	query := `SELECT id, ts_ms, actor, actor_kind, remote, action, resource_kind, resource, before_json, after_json FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT " + strconv.Itoa(limit+1)
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("audit list: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var ms int64
		var before, after sql.NullString
		if err := rows.Scan(&e.ID, &ms, &e.Actor.Name, &e.Actor.Kind, &e.Actor.Remote, &e.Action,
			&e.ResourceKind, &e.Resource, &before, &after); err != nil {
			return nil, "", fmt.Errorf("audit list: %w", err)
		}
		e.Time = time.UnixMilli(ms).UTC()
		if before.String != "" {
			e.Before = json.RawMessage(before.String)
		}
		if after.String != "" {
			e.After = json.RawMessage(after.String)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("audit list: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

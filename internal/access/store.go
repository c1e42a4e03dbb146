package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Errors callers can match with errors.Is.
var (
	// ErrNotFound: no such account, token or grant.
	ErrNotFound = errors.New("not found")
	// ErrExists: an account of that name exists already.
	ErrExists = errors.New("already exists")
	// ErrInvalid: a malformed name, password, expiry or resource.
	ErrInvalid = errors.New("invalid")
	// ErrBootstrapped: the server has an admin already, so bootstrap does
	// nothing.
	ErrBootstrapped = errors.New("an admin exists already")
)

// AnonymousName is the principal name of unauthenticated callers; no
// account may take it.
const AnonymousName = "anonymous"

// Store keeps accounts, tokens and grants in the metadata database. Its
// methods do not check the caller's permissions (the server does, with
// [Require]); every write is recorded in the audit trail, attributed to the
// context's actor.
type Store struct {
	db *sqlstore.DB
	// Now returns the current time; tests set it to move the clock.
	Now func() time.Time
	// LastUsedEvery throttles the write of a token's last-used time: it is
	// updated when older than this (default one minute), so that
	// authentication is not a write per request.
	LastUsedEvery time.Duration

	pwMu    sync.Mutex
	pwCache map[string]pwEntry // verified passwords, by account + keyed digest
	pwKey   [32]byte
}

type pwEntry struct {
	hash    string // the stored hash the password was checked against
	expires time.Time
}

// New returns a store over db, whose schema [sqlstore.Open] has migrated.
func New(db *sqlstore.DB) *Store {
	s := &Store{db: db, Now: time.Now, LastUsedEvery: time.Minute, pwCache: map[string]pwEntry{}}
	_, _ = rand.Read(s.pwKey[:])
	return s
}

// DB returns the database the store uses.
func (s *Store) DB() *sqlstore.DB { return s.db }

// AccountKind tells users from service accounts.
type AccountKind string

// Account kinds.
const (
	User    AccountKind = "user"
	Service AccountKind = "service"
)

// Account is a user or service account with its grants.
type Account struct {
	Name        string      `json:"name"`
	Kind        AccountKind `json:"kind"`
	HasPassword bool        `json:"has_password"`
	Created     time.Time   `json:"created"`
	CreatedBy   string      `json:"created_by,omitempty"`
	// Grants are the account's roles, server-wide first.
	Grants []Grant `json:"grants"`
}

// Grant is a role on a resource.
type Grant struct {
	Account  string   `json:"account"`
	Resource Resource `json:"resource"`
	Role     Role     `json:"role"`
}

// Token is an API token as stored: everything but its secret.
type Token struct {
	ID          string     `json:"id"`
	Account     string     `json:"account"`
	Description string     `json:"description,omitempty"`
	Created     time.Time  `json:"created"`
	Expires     *time.Time `json:"expires,omitempty"`
	LastUsed    *time.Time `json:"last_used,omitempty"`
	Revoked     *time.Time `json:"revoked,omitempty"`
}

// Active reports whether the token authenticates at time now.
func (t *Token) Active(now time.Time) bool {
	return t.Revoked == nil && (t.Expires == nil || now.Before(*t.Expires))
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$`)

// CheckName validates an account name: 1 to 128 letters, digits and
// . _ @ + -, starting with a letter or digit; "anonymous" is reserved.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("account name %q: want 1-128 letters, digits, '.', '_', '@', '+' or '-', starting with a letter or digit: %w", name, ErrInvalid)
	}
	if strings.EqualFold(name, AnonymousName) {
		return fmt.Errorf("account name %q is reserved for unauthenticated callers: %w", name, ErrInvalid)
	}
	return nil
}

// CheckResource validates a resource a role is granted on.
func CheckResource(r Resource) error {
	switch r.Kind {
	case Server:
		if r.Name != "" {
			return fmt.Errorf("resource %q: the server has no name: %w", r.Name, ErrInvalid)
		}
		return nil
	case Experiment, Model:
		if r.Name == "" || len(r.Name) > 256 || strings.ContainsAny(r.Name, "\x00\n\r") {
			return fmt.Errorf("%s name %q: want 1-256 characters without control characters: %w", r.Kind, r.Name, ErrInvalid)
		}
		return nil
	}
	return fmt.Errorf("resource kind %q: want server, experiment or model: %w", r.Kind, ErrInvalid)
}

// ParseResource parses "server", "experiment:ID" or "model:NAME".
func ParseResource(s string) (Resource, error) {
	if s == string(Server) {
		return ServerResource, nil
	}
	k, n, ok := strings.Cut(s, ":")
	r := Resource{Kind: Kind(k), Name: n}
	if !ok || (r.Kind != Experiment && r.Kind != Model) {
		return Resource{}, fmt.Errorf("resource %q: want server, experiment:ID or model:NAME: %w", s, ErrInvalid)
	}
	return r, CheckResource(r)
}

// AccountOptions describes an account to create.
type AccountOptions struct {
	// Kind is User (default) or Service.
	Kind AccountKind
	// Password, when set, lets a user authenticate with HTTP Basic and a
	// password. Service accounts authenticate with tokens only.
	Password string
	// Role, when not None, is granted server-wide.
	Role Role
}

// CreateAccount creates an account.
func (s *Store) CreateAccount(ctx context.Context, name string, o AccountOptions) (*Account, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("create account: %w", err)
	}
	if o.Kind == "" {
		o.Kind = User
	}
	if o.Kind != User && o.Kind != Service {
		return nil, fmt.Errorf("create account %s: kind %q: want user or service: %w", name, o.Kind, ErrInvalid)
	}
	var hash string
	if o.Password != "" {
		if o.Kind == Service {
			return nil, fmt.Errorf("create account %s: service accounts use tokens, not passwords: %w", name, ErrInvalid)
		}
		var err error
		if hash, err = HashPassword(o.Password); err != nil {
			return nil, fmt.Errorf("create account %s: %w", name, err)
		}
	}
	now := s.Now()
	actor := audit.ActorFrom(ctx).Name
	a := &Account{Name: name, Kind: o.Kind, HasPassword: hash != "", Created: now.UTC().Truncate(time.Millisecond), CreatedBy: actor}
	if o.Role != None {
		a.Grants = []Grant{{Account: name, Resource: ServerResource, Role: o.Role}}
	}
	err := s.db.Write(ctx, func(tx *sqlstore.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (name, kind, password_hash, created_ms, created_by) VALUES (?, ?, ?, ?, ?)`,
			name, string(o.Kind), hash, now.UnixMilli(), actor); err != nil {
			if sqlstore.IsUniqueViolation(err) {
				return fmt.Errorf("account %s: %w", name, ErrExists)
			}
			return err
		}
		if err := audit.Record(ctx, tx, "account.create", "account", name, nil, a); err != nil {
			return err
		}
		if o.Role != None {
			return s.grantTx(ctx, tx, name, ServerResource, o.Role, now)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create account %s: %w", name, err)
	}
	return a, nil
}

// DeleteAccount deletes an account with its tokens and grants.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	err := s.db.Write(ctx, func(tx *sqlstore.Tx) error {
		before, err := s.accountTx(ctx, tx, name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE name = ?`, name); err != nil {
			return err
		}
		return audit.Record(ctx, tx, "account.delete", "account", name, before, nil)
	})
	if err != nil {
		return fmt.Errorf("delete account %s: %w", name, err)
	}
	return nil
}

// SetPassword sets (or, with "", removes) a user's password.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	var hash string
	if password != "" {
		var err error
		if hash, err = HashPassword(password); err != nil {
			return fmt.Errorf("set password of %s: %w", name, err)
		}
	}
	err := s.db.Write(ctx, func(tx *sqlstore.Tx) error {
		a, err := s.accountTx(ctx, tx, name)
		if err != nil {
			return err
		}
		if a.Kind == Service && hash != "" {
			return fmt.Errorf("service accounts use tokens, not passwords: %w", ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE name = ?`, hash, name); err != nil {
			return err
		}
		// The audit records that the password changed, never the hash.
		return audit.Record(ctx, tx, "account.password.set", "account", name,
			map[string]bool{"has_password": a.HasPassword}, map[string]bool{"has_password": hash != ""})
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	return nil
}

// Account returns one account with its grants.
func (s *Store) Account(ctx context.Context, name string) (*Account, error) {
	as, err := s.accounts(ctx, s.db, name)
	if err != nil {
		return nil, fmt.Errorf("get account %s: %w", name, err)
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("get account %s: %w", name, ErrNotFound)
	}
	return &as[0], nil
}

// Accounts returns every account, by name.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	as, err := s.accounts(ctx, s.db, "")
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return as, nil
}

// querier is what both a DB and a Tx offer for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) accountTx(ctx context.Context, tx *sqlstore.Tx, name string) (*Account, error) {
	as, err := s.accounts(ctx, tx, name)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("account %s: %w", name, ErrNotFound)
	}
	return &as[0], nil
}

// accounts lists one account (name set) or all.
func (s *Store) accounts(ctx context.Context, q querier, name string) ([]Account, error) {
	query := `SELECT name, kind, password_hash, created_ms, created_by FROM accounts`
	var args []any
	if name != "" {
		query += ` WHERE name = ?`
		args = append(args, name)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	var out []Account
	idx := map[string]int{}
	for rows.Next() {
		var a Account
		var hash string
		var ms int64
		if err := rows.Scan(&a.Name, &a.Kind, &hash, &ms, &a.CreatedBy); err != nil {
			rows.Close()
			return nil, err
		}
		a.HasPassword = hash != ""
		a.Created = time.UnixMilli(ms).UTC()
		a.Grants = []Grant{}
		idx[a.Name] = len(out)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	gs, err := s.grants(ctx, q, name, nil)
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		if i, ok := idx[g.Account]; ok {
			out[i].Grants = append(out[i].Grants, g)
		}
	}
	return out, nil
}

// grants lists grants of one account (or all when account is "") and, when
// r is set, on one resource only.
func (s *Store) grants(ctx context.Context, q querier, account string, r *Resource) ([]Grant, error) {
	query := `SELECT account, resource_kind, resource, role FROM grants`
	var where []string
	var args []any
	if account != "" {
		where = append(where, "account = ?")
		args = append(args, account)
	}
	if r != nil {
		where = append(where, "resource_kind = ? AND resource = ?")
		args = append(args, string(r.Kind), r.Name)
	}
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		var kind, role string
		if err := rows.Scan(&g.Account, &kind, &g.Resource.Name, &role); err != nil {
			return nil, err
		}
		g.Resource.Kind = Kind(kind)
		if g.Role, err = ParseRole(role); err != nil {
			return nil, fmt.Errorf("grant of %s on %s: %w", g.Account, g.Resource, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if (a.Resource.Kind == Server) != (b.Resource.Kind == Server) {
			return a.Resource.Kind == Server
		}
		return a.Resource.String() < b.Resource.String()
	})
	return out, nil
}

// Grants lists the grants on one resource (every account's), or every grant
// when r is nil.
func (s *Store) Grants(ctx context.Context, r *Resource) ([]Grant, error) {
	gs, err := s.grants(ctx, s.db, "", r)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return gs, nil
}

// Grant gives an account a role on a resource, replacing its previous role
// there.
func (s *Store) Grant(ctx context.Context, account string, r Resource, role Role) error {
	if err := CheckResource(r); err != nil {
		return fmt.Errorf("grant %s to %s: %w", role, account, err)
	}
	if role <= None || role > Admin {
		return fmt.Errorf("grant to %s on %s: role %s: %w", account, r, role, ErrInvalidRole)
	}
	err := s.db.Write(ctx, func(tx *sqlstore.Tx) error {
		if _, err := s.accountTx(ctx, tx, account); err != nil {
			return err
		}
		return s.grantTx(ctx, tx, account, r, role, s.Now())
	})
	if err != nil {
		return fmt.Errorf("grant %s on %s to %s: %w", role, r, account, err)
	}
	return nil
}

func (s *Store) grantTx(ctx context.Context, tx *sqlstore.Tx, account string, r Resource, role Role, now time.Time) error {
	before, err := s.grantedTx(ctx, tx, account, r)
	if err != nil {
		return err
	}
	if before == role {
		return nil
	}
	if before == None {
		_, err = tx.ExecContext(ctx, `INSERT INTO grants (account, resource_kind, resource, role, created_ms) VALUES (?, ?, ?, ?, ?)`,
			account, string(r.Kind), r.Name, role.String(), now.UnixMilli())
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE grants SET role = ?, created_ms = ? WHERE account = ? AND resource_kind = ? AND resource = ?`,
			role.String(), now.UnixMilli(), account, string(r.Kind), r.Name)
	}
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, "grant.set", "account", account, grantValue(r, before), grantValue(r, role))
}

func grantValue(r Resource, role Role) any {
	if role == None {
		return nil
	}
	return map[string]string{"resource": r.String(), "role": role.String()}
}

func (s *Store) grantedTx(ctx context.Context, tx *sqlstore.Tx, account string, r Resource) (Role, error) {
	var role string
	err := tx.QueryRowContext(ctx, `SELECT role FROM grants WHERE account = ? AND resource_kind = ? AND resource = ?`,
		account, string(r.Kind), r.Name).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return None, nil
	}
	if err != nil {
		return None, err
	}
	return ParseRole(role)
}

// Revoke removes an account's role on a resource.
func (s *Store) Revoke(ctx context.Context, account string, r Resource) error {
	err := s.db.Write(ctx, func(tx *sqlstore.Tx) error {
		before, err := s.grantedTx(ctx, tx, account, r)
		if err != nil {
			return err
		}
		if before == None {
			return fmt.Errorf("%s has no role on %s: %w", account, r, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE account = ? AND resource_kind = ? AND resource = ?`,
			account, string(r.Kind), r.Name); err != nil {
			return err
		}
		return audit.Record(ctx, tx, "grant.revoke", "account", account, grantValue(r, before), nil)
	})
	if err != nil {
		return fmt.Errorf("revoke role on %s from %s: %w", r, account, err)
	}
	return nil
}

// Token secrets: "gyre_" + 12 hex digits of public id + "_" + 43 characters
// of base64url secret (32 random bytes).
const (
	tokenPrefix = "gyre_"
	tokenIDLen  = 12
	tokenLen    = len(tokenPrefix) + tokenIDLen + 1 + 43
)

// TokenOptions describes a token to create.
type TokenOptions struct {
	// Description says what the token is for ("CI", "laptop").
	Description string
	// Expires, when not zero, is when the token stops authenticating.
	Expires time.Time
}

// CreateToken makes a token for an account and returns its secret, which
// is not stored and cannot be shown again, with the stored token.
func (s *Store) CreateToken(ctx context.Context, account string, o TokenOptions) (string, *Token, error) {
	now := s.Now()
	if !o.Expires.IsZero() && !o.Expires.After(now) {
		return "", nil, fmt.Errorf("create token for %s: expiry %s is not in the future: %w", account, o.Expires.Format(time.RFC3339), ErrInvalid)
	}
	if len(o.Description) > 256 {
		return "", nil, fmt.Errorf("create token for %s: description longer than 256 bytes: %w", account, ErrInvalid)
	}
	var idb [tokenIDLen / 2]byte
	var sec [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", nil, fmt.Errorf("create token for %s: %w", account, err)
	}
	if _, err := rand.Read(sec[:]); err != nil {
		return "", nil, fmt.Errorf("create token for %s: %w", account, err)
	}
	id := hex.EncodeToString(idb[:])
	secret := tokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(sec[:])
	t := &Token{ID: id, Account: account, Description: o.Description, Created: now.UTC().Truncate(time.Millisecond)}
	var expires any
	if !o.Expires.IsZero() {
		e := o.Expires.UTC().Truncate(time.Millisecond)
		t.Expires = &e
		expires = e.UnixMilli()
	}
	err := s.db.Write(ctx, func(tx *sqlstore.Tx) error {
		if _, err := s.accountTx(ctx, tx, account); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, account, description, secret_hash, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)`,
			id, account, o.Description, hashToken(secret), now.UnixMilli(), expires); err != nil {
			return err
		}
		return audit.Record(ctx, tx, "token.create", "token", id, nil, t)
	})
	if err != nil {
		return "", nil, fmt.Errorf("create token for %s: %w", account, err)
	}
	return secret, t, nil
}

func hashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// RevokeToken revokes a token by id: it stops authenticating at once. The
// row is kept, so listings and the audit trail still show it.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	now := s.Now()
	err := s.db.Write(ctx, func(tx *sqlstore.Tx) error {
		t, err := s.tokenTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.Revoked != nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_ms = ? WHERE id = ?`, now.UnixMilli(), id); err != nil {
			return err
		}
		after := *t
		r := now.UTC().Truncate(time.Millisecond)
		after.Revoked = &r
		return audit.Record(ctx, tx, "token.revoke", "token", id, t, after)
	})
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

// Token returns one token by id.
func (s *Store) Token(ctx context.Context, id string) (*Token, error) {
	ts, err := s.tokens(ctx, s.db, "id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("get token %s: %w", id, err)
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("get token %s: %w", id, ErrNotFound)
	}
	return &ts[0], nil
}

func (s *Store) tokenTx(ctx context.Context, tx *sqlstore.Tx, id string) (*Token, error) {
	ts, err := s.tokens(ctx, tx, "id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("token %s: %w", id, ErrNotFound)
	}
	return &ts[0], nil
}

// Tokens lists an account's tokens (every account's when account is ""),
// newest first.
func (s *Store) Tokens(ctx context.Context, account string) ([]Token, error) {
	var ts []Token
	var err error
	if account == "" {
		ts, err = s.tokens(ctx, s.db, "")
	} else {
		ts, err = s.tokens(ctx, s.db, "account = ?", account)
	}
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

func (s *Store) tokens(ctx context.Context, q querier, where string, args ...any) ([]Token, error) {
	query := `SELECT id, account, description, created_ms, expires_ms, last_used_ms, revoked_ms FROM api_tokens`
	if where != "" {
		query += " WHERE " + where
	}
	rows, err := q.QueryContext(ctx, query+" ORDER BY created_ms DESC, id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var created int64
		var expires, used, revoked sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Account, &t.Description, &created, &expires, &used, &revoked); err != nil {
			return nil, err
		}
		t.Created = time.UnixMilli(created).UTC()
		t.Expires, t.LastUsed, t.Revoked = msPtr(expires), msPtr(used), msPtr(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

// Principal loads an account as a principal: its server-wide role and its
// grants on experiments and models.
func (s *Store) Principal(ctx context.Context, name string) (*Principal, error) {
	a, err := s.Account(ctx, name)
	if err != nil {
		return nil, err
	}
	return principalOf(a), nil
}

func principalOf(a *Account) *Principal {
	p := &Principal{Name: a.Name, Service: a.Kind == Service}
	for _, g := range a.Grants {
		if g.Resource.Kind == Server {
			p.Role = max(p.Role, g.Role)
			continue
		}
		if p.Grants == nil {
			p.Grants = map[Resource]Role{}
		}
		p.Grants[g.Resource] = g.Role
	}
	return p
}

// AuthenticateToken returns the principal a token secret belongs to, or an
// error wrapping ErrUnauthenticated when the token is malformed, unknown,
// expired or revoked.
func (s *Store) AuthenticateToken(ctx context.Context, secret string) (*Principal, error) {
	if len(secret) != tokenLen || !strings.HasPrefix(secret, tokenPrefix) || secret[len(tokenPrefix)+tokenIDLen] != '_' {
		return nil, fmt.Errorf("token: not a Gyre API token: %w", ErrUnauthenticated)
	}
	id := secret[len(tokenPrefix) : len(tokenPrefix)+tokenIDLen]
	var account, stored string
	var expires, used, revoked sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT account, secret_hash, expires_ms, last_used_ms, revoked_ms FROM api_tokens WHERE id = ?`, id).
		Scan(&account, &stored, &expires, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("token %s: unknown: %w", id, ErrUnauthenticated)
	}
	if err != nil {
		return nil, fmt.Errorf("token %s: %w", id, err)
	}
	if subtle.ConstantTimeCompare([]byte(hashToken(secret)), []byte(stored)) != 1 {
		return nil, fmt.Errorf("token %s: wrong secret: %w", id, ErrUnauthenticated)
	}
	now := s.Now()
	if revoked.Valid {
		return nil, fmt.Errorf("token %s: revoked: %w", id, ErrUnauthenticated)
	}
	if expires.Valid && now.UnixMilli() >= expires.Int64 {
		return nil, fmt.Errorf("token %s: expired at %s: %w", id, time.UnixMilli(expires.Int64).UTC().Format(time.RFC3339), ErrUnauthenticated)
	}
	if !used.Valid || now.UnixMilli()-used.Int64 >= s.LastUsedEvery.Milliseconds() {
		// Bookkeeping, not a change anyone made: not audited. A failure
		// to record it must not refuse a valid token.
		_ = s.db.Write(ctx, func(tx *sqlstore.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_ms = ? WHERE id = ?`, now.UnixMilli(), id)
			return err
		})
	}
	p, err := s.Principal(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("token %s: %w", id, err)
	}
	return p, nil
}

// AuthenticatePassword returns the principal for a user name and password,
// or an error wrapping ErrUnauthenticated. A verified password is
// remembered in memory for a minute (keyed by a digest under a per-process
// key, and only while the stored hash is unchanged), so that clients that
// send Basic credentials on every request do not pay the KDF each time.
func (s *Store) AuthenticatePassword(ctx context.Context, name, password string) (*Principal, error) {
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT password_hash FROM accounts WHERE name = ?`, name).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && hash == "") {
		// Spend the KDF's time anyway, so unknown names are not told
		// apart by timing.
		_ = CheckPassword(dummyHash(), password)
		return nil, fmt.Errorf("user %s: wrong name or password: %w", name, ErrUnauthenticated)
	}
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", name, err)
	}
	key := s.pwKeyOf(name, password)
	now := s.Now()
	s.pwMu.Lock()
	e, ok := s.pwCache[key]
	s.pwMu.Unlock()
	if !ok || e.hash != hash || now.After(e.expires) {
		if err := CheckPassword(hash, password); err != nil {
			return nil, fmt.Errorf("user %s: wrong name or password: %w", name, ErrUnauthenticated)
		}
		s.pwMu.Lock()
		if len(s.pwCache) > 10000 {
			clear(s.pwCache)
		}
		s.pwCache[key] = pwEntry{hash: hash, expires: now.Add(time.Minute)}
		s.pwMu.Unlock()
	}
	return s.Principal(ctx, name)
}

func (s *Store) pwKeyOf(name, password string) string {
	h := sha256.New()
	h.Write(s.pwKey[:])
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(password))
	return string(h.Sum(nil))
}

var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("gyre-timing-equaliser")
	return h
})

// HasAdmin reports whether any account has the admin role server-wide.
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM grants WHERE resource_kind = ? AND role = ?`, string(Server), Admin.String()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check for an admin: %w", err)
	}
	return n > 0, nil
}

// Bootstrap makes the first admin: a user named name with the admin role
// server-wide and a token, whose secret it returns. When the server has an
// admin already it does nothing and returns ErrBootstrapped, so a server
// restarted with the same bootstrap setting mints no new token. An existing
// account of that name is made admin.
func (s *Store) Bootstrap(ctx context.Context, name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", fmt.Errorf("bootstrap admin: %w", err)
	}
	ok, err := s.HasAdmin(ctx)
	if err != nil {
		return "", fmt.Errorf("bootstrap admin %s: %w", name, err)
	}
	if ok {
		return "", fmt.Errorf("bootstrap admin %s: %w", name, ErrBootstrapped)
	}
	if _, err := s.CreateAccount(ctx, name, AccountOptions{Role: Admin}); errors.Is(err, ErrExists) {
		if err := s.Grant(ctx, name, ServerResource, Admin); err != nil {
			return "", fmt.Errorf("bootstrap admin: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("bootstrap admin: %w", err)
	}
	secret, _, err := s.CreateToken(ctx, name, TokenOptions{Description: "bootstrap"})
	if err != nil {
		return "", fmt.Errorf("bootstrap admin: %w", err)
	}
	return secret, nil
}

package access_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestAccountsTokensGrants(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		f := newAccessFixture(db)
		createAccounts(t, f)
		// Grants: per model and per experiment, on top of the server role.
		model := access.Resource{Kind: access.Model, Name: "adult-income"}
		exp := access.Resource{Kind: access.Experiment, Name: "3f2a"}
		grantRoles(t, f, model, exp)
		secret, stored := tokensAuthenticate(t, f, model, exp)
		expireAndRevokeTokens(t, f, secret)
		revokeGrant(t, f, model, exp)
		deleteAndAudit(t, f, secret, stored)
	})
}

// accessFixture is a store with a clock the test moves, and a context
// whose actor is root from 10.0.0.1.
type accessFixture struct {
	ctx   context.Context
	s     *access.Store
	db    *sqlstore.DB
	mu    sync.Mutex
	clock time.Time
}

func newAccessFixture(db *sqlstore.DB) *accessFixture {
	f := &accessFixture{ctx: audit.WithActor(context.Background(), audit.Actor{Name: "root", Kind: audit.KindUser, Remote: "10.0.0.1:4000"}),
		s: access.New(db), db: db, clock: time.UnixMilli(1_750_000_000_000)}
	f.s.Now = f.now
	return f
}

func (f *accessFixture) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.clock }

func (f *accessFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.clock = f.clock.Add(d)
	f.mu.Unlock()
}

// createAccounts creates alice (a viewer with a password) and the service
// account ci, refusing duplicates, bad names and bad passwords.
func createAccounts(t *testing.T, f *accessFixture) {
	t.Helper()
	ctx, s := f.ctx, f.s
	if _, err := s.CreateAccount(ctx, "alice", access.AccountOptions{Password: "correct horse battery", Role: access.Viewer}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccount(ctx, "alice", access.AccountOptions{}); !errors.Is(err, access.ErrExists) {
		t.Fatalf("duplicate account: got %v, want ErrExists", err)
	}
	for _, bad := range []string{"", "anonymous", "../etc", "a b", strings.Repeat("x", 129), "/abs"} {
		if _, err := s.CreateAccount(ctx, bad, access.AccountOptions{}); !errors.Is(err, access.ErrInvalid) {
			t.Errorf("account name %q: got %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.CreateAccount(ctx, "bob", access.AccountOptions{Password: "short"}); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("short password: got %v", err)
	}
	if _, err := s.CreateAccount(ctx, "ci", access.AccountOptions{Kind: access.Service, Password: "a long enough password"}); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("service account with password: got %v", err)
	}
	if _, err := s.CreateAccount(ctx, "ci", access.AccountOptions{Kind: access.Service}); err != nil {
		t.Fatal(err)
	}
}

func grantRoles(t *testing.T, f *accessFixture, model, exp access.Resource) {
	t.Helper()
	ctx, s := f.ctx, f.s
	if err := s.Grant(ctx, "alice", model, access.Editor); err != nil {
		t.Fatal(err)
	}
	if err := s.Grant(ctx, "ci", exp, access.Editor); err != nil {
		t.Fatal(err)
	}
	if err := s.Grant(ctx, "nobody", model, access.Editor); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("grant to unknown account: got %v", err)
	}
	if err := s.Grant(ctx, "alice", access.Resource{Kind: "bucket", Name: "x"}, access.Editor); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("grant on unknown kind: got %v", err)
	}
}

// tokensAuthenticate makes ci a token (shown once, only a hash stored)
// and checks bearer, basic and password authentication; it returns the
// secret and its stored hash.
func tokensAuthenticate(t *testing.T, f *accessFixture, model, exp access.Resource) (secret, stored string) {
	t.Helper()
	ctx, s, db := f.ctx, f.s, f.db
	secret, tok, err := s.CreateToken(ctx, "ci", access.TokenOptions{Description: "CI", Expires: f.now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT secret_hash FROM api_tokens WHERE id = ?`, tok.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, secret) || strings.Contains(secret, stored) || len(stored) != 64 {
		t.Fatalf("stored token hash %q must be a digest, not the secret", stored)
	}
	p, err := s.AuthenticateHeader(ctx, "Bearer "+secret)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "ci" || !p.Service || p.Role != access.None || p.RoleOn(exp) != access.Editor || p.MaxRole() != access.Editor {
		t.Fatalf("token principal: got %+v", p)
	}
	got, _ := s.Token(ctx, tok.ID)
	if got.LastUsed == nil || !got.LastUsed.Equal(f.now()) {
		t.Fatalf("last used after first use: got %v, want %v", got.LastUsed, f.now())
	}
	f.advance(10 * time.Second) // within LastUsedEvery: no write
	if _, err := s.AuthenticateHeader(ctx, "bearer "+secret); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Token(ctx, tok.ID); !got.LastUsed.Equal(f.now().Add(-10 * time.Second)) {
		t.Fatalf("last used is throttled: got %v", got.LastUsed)
	}
	// Basic auth with the account's token as the password.
	if p, err := s.AuthenticateHeader(ctx, basic("ci", secret)); err != nil || p.Name != "ci" {
		t.Fatalf("basic with token: got %v, %v", p, err)
	}
	if _, err := s.AuthenticateHeader(ctx, basic("alice", secret)); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatalf("basic with another account's token: got %v", err)
	}
	last := byte('A')
	if secret[len(secret)-1] == 'A' {
		last = 'B'
	}
	tampered := secret[:len(secret)-1] + string(last)
	for _, h := range []string{"Bearer " + tampered, "Bearer gyre_nope", "Bearer ", "Token " + secret, basic("alice", "wrong password!"), basic("ghost", "correct horse battery"), "Basic !!!"} {
		if _, err := s.AuthenticateHeader(ctx, h); !errors.Is(err, access.ErrUnauthenticated) {
			t.Errorf("header %q: got %v, want ErrUnauthenticated", h, err)
		}
	}
	// Basic with a password.
	p, err = s.AuthenticateHeader(ctx, basic("alice", "correct horse battery"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "alice" || p.Service || p.Role != access.Viewer || p.RoleOn(model) != access.Editor {
		t.Fatalf("password principal: got %+v", p)
	}
	// A changed password stops the old one at once, cache or not.
	if err := s.SetPassword(ctx, "alice", "another long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateHeader(ctx, basic("alice", "correct horse battery")); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatalf("old password after change: got %v", err)
	}
	if _, err := s.AuthenticateHeader(ctx, basic("alice", "another long password")); err != nil {
		t.Fatalf("new password: %v", err)
	}
	return secret, stored
}

// expireAndRevokeTokens: a token authenticates until it expires or is
// revoked.
func expireAndRevokeTokens(t *testing.T, f *accessFixture, secret string) {
	t.Helper()
	ctx, s := f.ctx, f.s
	f.advance(time.Hour)
	if _, err := s.AuthenticateHeader(ctx, "Bearer "+secret); !errors.Is(err, access.ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: got %v", err)
	}
	secret2, tok2, err := s.CreateToken(ctx, "ci", access.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateToken(ctx, "ci", access.TokenOptions{Expires: f.now().Add(-time.Second)}); !errors.Is(err, access.ErrInvalid) {
		t.Fatalf("token expiring in the past: got %v", err)
	}
	if err := s.RevokeToken(ctx, tok2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateHeader(ctx, "Bearer "+secret2); !errors.Is(err, access.ErrUnauthenticated) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked token: got %v", err)
	}
	ts, err := s.Tokens(ctx, "ci")
	if err != nil || len(ts) != 2 || ts[0].ID != tok2.ID || ts[0].Revoked == nil || ts[0].Active(f.now()) || ts[1].Active(f.now()) {
		t.Fatalf("tokens of ci: got %+v, %v", ts, err)
	}
}

// revokeGrant: revoking a grant; the role change shows in the principal.
func revokeGrant(t *testing.T, f *accessFixture, model, exp access.Resource) {
	t.Helper()
	ctx, s := f.ctx, f.s
	if err := s.Revoke(ctx, "alice", model); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "alice", model); !errors.Is(err, access.ErrNotFound) {
		t.Fatalf("revoke twice: got %v", err)
	}
	if p, _ := s.Principal(ctx, "alice"); p.RoleOn(model) != access.Viewer {
		t.Fatalf("after revoke: alice is %s on the model", p.RoleOn(model))
	}
	accts, err := s.Accounts(ctx)
	if err != nil || len(accts) != 2 || accts[0].Name != "alice" || !accts[0].HasPassword || accts[1].Grants[0].Resource != exp {
		t.Fatalf("accounts: got %+v, %v", accts, err)
	}
	b, _ := json.Marshal(accts[1])
	if !strings.Contains(string(b), `"resource":"experiment:3f2a","role":"editor"`) {
		t.Fatalf("account JSON: %s", b)
	}
}

// deleteAndAudit: deleting an account removes its tokens and grants, and
// every write is audited with who and from where; no secret or hash
// reaches the audit trail.
func deleteAndAudit(t *testing.T, f *accessFixture, secret, stored string) {
	t.Helper()
	ctx, s := f.ctx, f.s
	db := f.db
	if err := s.DeleteAccount(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if ts, _ := s.Tokens(ctx, "ci"); len(ts) != 0 {
		t.Fatalf("tokens after delete: %+v", ts)
	}

	// Every write is audited with who and from where; no secret or hash
	// reaches the audit trail.
	entries, _, err := audit.List(ctx, db, audit.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action]++
		if e.Actor.Name != "root" || e.Actor.Remote != "10.0.0.1:4000" {
			t.Errorf("entry %s: actor %+v", e.Action, e.Actor)
		}
		for _, raw := range []json.RawMessage{e.Before, e.After} {
			if strings.Contains(string(raw), "argon2") || strings.Contains(string(raw), stored) || strings.Contains(string(raw), secret) {
				t.Errorf("entry %s leaks a secret: %s", e.Action, raw)
			}
		}
	}
	want := map[string]int{"account.create": 2, "grant.set": 3, "token.create": 2, "token.revoke": 1, "account.password.set": 1, "grant.revoke": 1, "account.delete": 1}
	for a, n := range want {
		if actions[a] != n {
			t.Errorf("audit %s: got %d entries, want %d (all: %v)", a, actions[a], n, actions)
		}
	}
}

func TestBootstrap(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		s := access.New(db)
		secret, err := s.Bootstrap(ctx, "admin")
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		p, err := s.Authenticate(r)
		if err != nil || p.Name != "admin" || p.Role != access.Admin {
			t.Fatalf("bootstrap token: got %+v, %v", p, err)
		}
		if _, err := s.Bootstrap(ctx, "admin"); !errors.Is(err, access.ErrBootstrapped) {
			t.Fatalf("second bootstrap: got %v, want ErrBootstrapped", err)
		}
		if _, err := s.Bootstrap(ctx, "eve"); !errors.Is(err, access.ErrBootstrapped) {
			t.Fatalf("bootstrap with an admin present: got %v", err)
		}
		if ts, _ := s.Tokens(ctx, ""); len(ts) != 1 {
			t.Fatalf("bootstrap minted %d tokens, want 1", len(ts))
		}
		// No credentials: no principal and no error; the server decides.
		r.Header.Del("Authorization")
		if p, err := s.Authenticate(r); p != nil || err != nil {
			t.Fatalf("no credentials: got %v, %v", p, err)
		}
	})
}

func TestPasswordHash(t *testing.T) {
	h, err := access.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q: want the argon2id PHC form", h)
	}
	h2, _ := access.HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	if err := access.CheckPassword(h, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"correct horse batterY", "", "correct horse battery "} {
		if err := access.CheckPassword(h, bad); !errors.Is(err, access.ErrUnauthenticated) {
			t.Errorf("password %q: got %v", bad, err)
		}
	}
	for _, stored := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "plain"} {
		if err := access.CheckPassword(stored, "x"); !errors.Is(err, access.ErrUnauthenticated) {
			t.Errorf("stored %q: got %v", stored, err)
		}
	}
}

func TestParseResource(t *testing.T) {
	for _, c := range []struct {
		in   string
		want access.Resource
		ok   bool
	}{
		{"server", access.ServerResource, true},
		{"model:adult", access.Resource{Kind: access.Model, Name: "adult"}, true},
		{"experiment:3f2a", access.Resource{Kind: access.Experiment, Name: "3f2a"}, true},
		{"model:", access.Resource{}, false},
		{"server:x", access.Resource{}, false},
		{"run:1", access.Resource{}, false},
		{"adult", access.Resource{}, false},
	} {
		got, err := access.ParseResource(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseResource(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// FuzzAuthenticateHeader feeds arbitrary Authorization headers: the
// decoder never panics and never authenticates anything but the one real
// token.
func FuzzAuthenticateHeader(f *testing.F) {
	db, err := sqlstore.Open(context.Background(), f.TempDir()+"/gyre.db")
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	s := access.New(db)
	ctx := context.Background()
	if _, err := s.CreateAccount(ctx, "alice", access.AccountOptions{Password: "correct horse battery"}); err != nil {
		f.Fatal(err)
	}
	secret, _, err := s.CreateToken(ctx, "alice", access.TokenOptions{})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"Bearer " + secret, basic("alice", secret), basic("alice", "x"), "Bearer gyre_000000000000_" + strings.Repeat("A", 43), "Basic", "Bearer", " ", "Basic Og=="} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		p, err := s.AuthenticateHeader(ctx, h)
		if err == nil {
			if p == nil || p.Name != "alice" {
				t.Fatalf("header %q authenticated as %+v", h, p)
			}
			return
		}
		if !errors.Is(err, access.ErrUnauthenticated) {
			t.Fatalf("header %q: error %v does not wrap ErrUnauthenticated", h, err)
		}
	})
}

package cli

import (
	"context"
	"net/url"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/web"
)

// admin is what the account commands (users, tokens, grant, revoke) call:
// the local store's access tables, for the machine that holds the store
// (and to recover a lost admin token), or a team server's API.
type admin interface {
	Accounts(ctx context.Context) ([]access.Account, error)
	CreateAccount(ctx context.Context, req web.CreateAccountRequest) (*access.Account, error)
	DeleteAccount(ctx context.Context, name string) error
	SetPassword(ctx context.Context, name, password string) error
	Tokens(ctx context.Context, account string) ([]access.Token, error)
	CreateToken(ctx context.Context, account string, req web.CreateTokenRequest) (*web.CreatedToken, error)
	RevokeToken(ctx context.Context, id string) error
	Grant(ctx context.Context, account string, r access.Resource, role access.Role) error
	Revoke(ctx context.Context, account string, r access.Resource) error
	Close() error
}

func (a *App) openAdmin(ctx context.Context) (admin, error) {
	if a.serverURL() != "" {
		c, err := a.client()
		if err != nil {
			return nil, err
		}
		return remoteAdmin{c}, nil
	}
	st, err := a.openStores(ctx)
	if err != nil {
		return nil, err
	}
	return localAdmin{access.New(st.DB), st}, nil
}

type localAdmin struct {
	s  *access.Store
	st *stores
}

func (l localAdmin) Accounts(ctx context.Context) ([]access.Account, error) { return l.s.Accounts(ctx) }
func (l localAdmin) CreateAccount(ctx context.Context, req web.CreateAccountRequest) (*access.Account, error) {
	o, err := req.Options()
	if err != nil {
		return nil, err
	}
	return l.s.CreateAccount(ctx, req.Name, o)
}
func (l localAdmin) DeleteAccount(ctx context.Context, name string) error {
	return l.s.DeleteAccount(ctx, name)
}
func (l localAdmin) SetPassword(ctx context.Context, name, pw string) error {
	return l.s.SetPassword(ctx, name, pw)
}
func (l localAdmin) Tokens(ctx context.Context, account string) ([]access.Token, error) {
	return l.s.Tokens(ctx, account)
}
func (l localAdmin) CreateToken(ctx context.Context, account string, req web.CreateTokenRequest) (*web.CreatedToken, error) {
	o := access.TokenOptions{Description: req.Description}
	if req.ExpiresIn != "" {
		d, err := web.ParseAge(req.ExpiresIn)
		if err != nil {
			return nil, usageErrorf("--expires-in: %v", err)
		}
		o.Expires = time.Now().Add(d)
	}
	secret, t, err := l.s.CreateToken(ctx, account, o)
	if err != nil {
		return nil, err
	}
	return &web.CreatedToken{Token: secret, Info: t}, nil
}
func (l localAdmin) RevokeToken(ctx context.Context, id string) error {
	return l.s.RevokeToken(ctx, id)
}
func (l localAdmin) Grant(ctx context.Context, account string, r access.Resource, role access.Role) error {
	return l.s.Grant(ctx, account, r, role)
}
func (l localAdmin) Revoke(ctx context.Context, account string, r access.Resource) error {
	return l.s.Revoke(ctx, account, r)
}
func (l localAdmin) Close() error { return l.st.Close() }

type remoteAdmin struct{ c *apiClient }

func accountPath(name string) string { return "/api/v1/accounts/" + url.PathEscape(name) }

func (r remoteAdmin) Accounts(ctx context.Context) ([]access.Account, error) {
	return items[access.Account](ctx, r.c, "/api/v1/accounts")
}
func (r remoteAdmin) CreateAccount(ctx context.Context, req web.CreateAccountRequest) (*access.Account, error) {
	return call[access.Account](ctx, r.c, "POST", "/api/v1/accounts", nil, req)
}
func (r remoteAdmin) DeleteAccount(ctx context.Context, name string) error {
	return r.c.do(ctx, "DELETE", accountPath(name), nil, nil, nil)
}
func (r remoteAdmin) SetPassword(ctx context.Context, name, pw string) error {
	return r.c.do(ctx, "PUT", accountPath(name)+"/password", nil, web.SetPasswordRequest{Password: pw}, nil)
}
func (r remoteAdmin) Tokens(ctx context.Context, account string) ([]access.Token, error) {
	return items[access.Token](ctx, r.c, accountPath(account)+"/tokens")
}
func (r remoteAdmin) CreateToken(ctx context.Context, account string, req web.CreateTokenRequest) (*web.CreatedToken, error) {
	return call[web.CreatedToken](ctx, r.c, "POST", accountPath(account)+"/tokens", nil, req)
}
func (r remoteAdmin) RevokeToken(ctx context.Context, id string) error {
	return r.c.do(ctx, "DELETE", "/api/v1/tokens/"+url.PathEscape(id), nil, nil, nil)
}
func (r remoteAdmin) Grant(ctx context.Context, account string, res access.Resource, role access.Role) error {
	return r.c.do(ctx, "PUT", accountPath(account)+"/grants/"+url.PathEscape(res.String()), nil, web.GrantRequest{Role: role.String()}, nil)
}
func (r remoteAdmin) Revoke(ctx context.Context, account string, res access.Resource) error {
	return r.c.do(ctx, "DELETE", accountPath(account)+"/grants/"+url.PathEscape(res.String()), nil, nil, nil)
}
func (r remoteAdmin) Close() error { return nil }

var (
	_ admin = localAdmin{}
	_ admin = remoteAdmin{}
)

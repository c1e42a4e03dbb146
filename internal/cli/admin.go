package cli

import (
	"context"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/apiclient"
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
}

// localAdmin is the local store's accounts.
type localAdmin struct{ s *access.Store }

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

var (
	_ admin = localAdmin{}
	_ admin = (*apiclient.Accounts)(nil)
)

package workspace

import (
	"context"
	"fmt"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/apiclient"
	"github.com/gyre-ml/gyre/internal/web"
)

// Accounts is what the account commands (users, tokens, grant, revoke)
// call: the local store's access tables, for the machine that holds the
// store (and to recover a lost admin token), or a team server's API.
type Accounts interface {
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

// LocalAccounts is the local store's accounts, with the requests of the
// team server's API.
type LocalAccounts struct{ S *access.Store }

// Accounts lists the accounts.
func (l LocalAccounts) Accounts(ctx context.Context) ([]access.Account, error) {
	return l.S.Accounts(ctx)
}

// CreateAccount creates the account the request describes.
func (l LocalAccounts) CreateAccount(ctx context.Context, req web.CreateAccountRequest) (*access.Account, error) {
	o, err := req.Options()
	if err != nil {
		return nil, err
	}
	return l.S.CreateAccount(ctx, req.Name, o)
}

// DeleteAccount deletes an account with its tokens and grants.
func (l LocalAccounts) DeleteAccount(ctx context.Context, name string) error {
	return l.S.DeleteAccount(ctx, name)
}

// SetPassword sets (or with "" removes) a user's password.
func (l LocalAccounts) SetPassword(ctx context.Context, name, pw string) error {
	return l.S.SetPassword(ctx, name, pw)
}

// Tokens lists an account's tokens.
func (l LocalAccounts) Tokens(ctx context.Context, account string) ([]access.Token, error) {
	return l.S.Tokens(ctx, account)
}

// CreateToken makes a token for the account; an ExpiresIn that is not an
// age (web.ParseAge) is an error of access.ErrInvalid.
func (l LocalAccounts) CreateToken(ctx context.Context, account string, req web.CreateTokenRequest) (*web.CreatedToken, error) {
	o := access.TokenOptions{Description: req.Description}
	if req.ExpiresIn != "" {
		d, err := web.ParseAge(req.ExpiresIn)
		if err != nil {
			return nil, fmt.Errorf("create token: expires in: %w: %v", access.ErrInvalid, err)
		}
		o.Expires = time.Now().Add(d)
	}
	secret, t, err := l.S.CreateToken(ctx, account, o)
	if err != nil {
		return nil, err
	}
	return &web.CreatedToken{Token: secret, Info: t}, nil
}

// RevokeToken revokes a token.
func (l LocalAccounts) RevokeToken(ctx context.Context, id string) error {
	return l.S.RevokeToken(ctx, id)
}

// Grant gives the account a role on a resource.
func (l LocalAccounts) Grant(ctx context.Context, account string, r access.Resource, role access.Role) error {
	return l.S.Grant(ctx, account, r, role)
}

// Revoke takes away the account's role on a resource.
func (l LocalAccounts) Revoke(ctx context.Context, account string, r access.Resource) error {
	return l.S.Revoke(ctx, account, r)
}

var (
	_ Accounts = LocalAccounts{}
	_ Accounts = (*apiclient.Accounts)(nil)
)

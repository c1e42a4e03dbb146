package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/retention"
	"github.com/gyre-ml/gyre/internal/web"
)

// Whoami returns who the server knows the caller as, with their roles.
func (c *Client) Whoami(ctx context.Context) (*web.Whoami, error) {
	return Call[web.Whoami](ctx, c, http.MethodGet, "/api/v1/whoami", nil, nil)
}

// CreateOwnToken makes a token for the caller (gyre login --user).
func (c *Client) CreateOwnToken(ctx context.Context, req web.CreateTokenRequest) (*web.CreatedToken, error) {
	return Call[web.CreatedToken](ctx, c, http.MethodPost, "/api/v1/me/tokens", nil, req)
}

// Accounts is the server's accounts, tokens and grants (admin routes).
type Accounts struct{ c *Client }

// Accounts returns the server's accounts.
func (c *Client) Accounts() *Accounts { return &Accounts{c} }

func accountPath(name string) string { return "/api/v1/accounts/" + url.PathEscape(name) }

// Accounts lists accounts with their grants.
func (a *Accounts) Accounts(ctx context.Context) ([]access.Account, error) {
	return items[access.Account](ctx, a.c, "/api/v1/accounts")
}

// CreateAccount creates a user or service account.
func (a *Accounts) CreateAccount(ctx context.Context, req web.CreateAccountRequest) (*access.Account, error) {
	return Call[access.Account](ctx, a.c, http.MethodPost, "/api/v1/accounts", nil, req)
}

// DeleteAccount deletes an account with its tokens and grants.
func (a *Accounts) DeleteAccount(ctx context.Context, name string) error {
	return a.c.Do(ctx, http.MethodDelete, accountPath(name), nil, nil, nil)
}

// SetPassword sets or removes (empty) a user's password.
func (a *Accounts) SetPassword(ctx context.Context, name, pw string) error {
	return a.c.Do(ctx, http.MethodPut, accountPath(name)+"/password", nil, web.SetPasswordRequest{Password: pw}, nil)
}

// Tokens lists an account's tokens (never their secrets).
func (a *Accounts) Tokens(ctx context.Context, account string) ([]access.Token, error) {
	return items[access.Token](ctx, a.c, accountPath(account)+"/tokens")
}

// CreateToken makes a token for an account; the secret is in this answer
// only.
func (a *Accounts) CreateToken(ctx context.Context, account string, req web.CreateTokenRequest) (*web.CreatedToken, error) {
	return Call[web.CreatedToken](ctx, a.c, http.MethodPost, accountPath(account)+"/tokens", nil, req)
}

// RevokeToken revokes a token.
func (a *Accounts) RevokeToken(ctx context.Context, id string) error {
	return a.c.Do(ctx, http.MethodDelete, "/api/v1/tokens/"+url.PathEscape(id), nil, nil, nil)
}

// Grant grants a role on a resource.
func (a *Accounts) Grant(ctx context.Context, account string, res access.Resource, role access.Role) error {
	return a.c.Do(ctx, http.MethodPut, accountPath(account)+"/grants/"+url.PathEscape(res.String()), nil, web.GrantRequest{Role: role.String()}, nil)
}

// Revoke revokes a role on a resource.
func (a *Accounts) Revoke(ctx context.Context, account string, res access.Resource) error {
	return a.c.Do(ctx, http.MethodDelete, accountPath(account)+"/grants/"+url.PathEscape(res.String()), nil, nil, nil)
}

// Audit is the server's audit trail.
type Audit struct{ c *Client }

// Audit returns the server's audit trail.
func (c *Client) Audit() *Audit { return &Audit{c} }

// List returns a page of the trail, newest first, and the next page's
// token.
func (a *Audit) List(ctx context.Context, q audit.Query) ([]audit.Entry, string, error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	switch q.ResourceKind {
	case "model":
		set("model", q.Resource)
	case "experiment":
		set("experiment", q.Resource)
	default:
		set("resource_kind", q.ResourceKind)
		set("resource", q.Resource)
	}
	set("user", q.Actor)
	set("action", q.ActionPrefix)
	if !q.Since.IsZero() {
		set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		set("until", q.Until.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		set("max_results", strconv.Itoa(q.Limit))
	}
	set("page_token", q.PageToken)
	l, err := Call[web.List[audit.Entry]](ctx, a.c, http.MethodGet, "/api/v1/audit", v, nil)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.NextPageToken, nil
}

// GC runs retention on the server (admin): what it deleted, or would
// delete on a dry run.
func (c *Client) GC(ctx context.Context, req web.GCRequest) (*retention.Report, error) {
	return Call[retention.Report](ctx, c, http.MethodPost, "/api/v1/gc", nil, req)
}

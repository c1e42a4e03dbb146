package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/audit"
)

// CreateAccountRequest creates a user or service account.
type CreateAccountRequest struct {
	Name string `json:"name"`
	// Kind is "user" (default) or "service".
	Kind string `json:"kind,omitempty"`
	// Password, for users who sign in with Basic credentials.
	Password string `json:"password,omitempty"`
	// Role, when set, is granted server-wide: viewer, editor or admin.
	Role string `json:"role,omitempty"`
}

// Options returns the account options the request asks for; a bad role
// is an invalid_argument naming role.
func (req CreateAccountRequest) Options() (access.AccountOptions, error) {
	o := access.AccountOptions{Kind: access.AccountKind(req.Kind), Password: req.Password}
	if req.Role != "" {
		role, err := access.ParseRole(req.Role)
		if err != nil {
			return o, invalid("role", err)
		}
		o.Role = role
	}
	return o, nil
}

// SetPasswordRequest sets or (with "") removes a password.
type SetPasswordRequest struct {
	Password string `json:"password"`
}

// CreateTokenRequest makes an API token.
type CreateTokenRequest struct {
	Description string `json:"description,omitempty"`
	// ExpiresIn is an age from now ("90d", "12h"); Expires an RFC 3339
	// time. At most one; neither for a token that does not expire.
	ExpiresIn string `json:"expires_in,omitempty"`
	Expires   string `json:"expires,omitempty"`
}

// CreatedToken is the answer to a token request: the secret, shown this
// once, and the stored token.
type CreatedToken struct {
	Token string        `json:"token"`
	Info  *access.Token `json:"info"`
}

// GrantRequest sets a role.
type GrantRequest struct {
	Role string `json:"role"`
}

func (s *Server) accessRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/accounts", Role: access.Admin, Summary: "List accounts with their grants.",
			Response: List[access.Account]{}, Handler: listed(s.listAccounts)},
		{Method: "POST", Pattern: "/api/v1/accounts", Role: access.Admin, Summary: "Create a user or service account.",
			Body: CreateAccountRequest{}, Response: access.Account{}, Handler: created(s.createAccount)},
		{Method: "GET", Pattern: "/api/v1/accounts/{name}", Role: access.Admin, Summary: "Get an account with its grants.",
			Response: access.Account{}, Handler: ok(s.getAccount)},
		{Method: "DELETE", Pattern: "/api/v1/accounts/{name}", Role: access.Admin, Summary: "Delete an account with its tokens and grants.",
			Handler: done(s.deleteAccount)},
		{Method: "PUT", Pattern: "/api/v1/accounts/{name}/password", Role: access.Admin, Summary: "Set or remove a user's password.",
			Body: SetPasswordRequest{}, Handler: done(s.setPassword)},
		{Method: "GET", Pattern: "/api/v1/accounts/{name}/tokens", Role: access.Admin, Summary: "List an account's tokens (never their secrets).",
			Response: List[access.Token]{}, Handler: listed(s.listTokens)},
		{Method: "POST", Pattern: "/api/v1/accounts/{name}/tokens", Role: access.Admin, Summary: "Make a token for an account; the secret is in this answer only.",
			Body: CreateTokenRequest{}, Response: CreatedToken{}, Handler: handlerFunc(s.createToken)},
		{Method: "DELETE", Pattern: "/api/v1/tokens/{id}", Role: access.Admin, Summary: "Revoke a token.",
			Handler: done(s.revokeToken)},
		{Method: "GET", Pattern: "/api/v1/grants", Role: access.Admin, Summary: "List grants, of one resource or all (admins of a model or experiment see its grants).",
			Query: []Param{{"resource", "server, experiment:ID or model:NAME"}}, Response: List[access.Grant]{}, Handler: listed(s.listGrants)},
		{Method: "PUT", Pattern: "/api/v1/accounts/{name}/grants/{resource}", Role: access.Admin, Summary: "Grant a role on a resource (server, experiment:ID, model:NAME); needs admin on it.",
			Body: GrantRequest{}, Handler: done(s.grant)},
		{Method: "DELETE", Pattern: "/api/v1/accounts/{name}/grants/{resource}", Role: access.Admin, Summary: "Revoke a role on a resource; needs admin on it.",
			Handler: done(s.revokeGrant)},

		{Method: "GET", Pattern: "/api/v1/me/tokens", Role: access.Viewer, Self: true, Summary: "List the caller's own tokens.",
			Response: List[access.Token]{}, Handler: listed(s.listMyTokens)},
		{Method: "POST", Pattern: "/api/v1/me/tokens", Role: access.Viewer, Self: true, Summary: "Make a token for the caller (gyre login); it carries the caller's roles.",
			Body: CreateTokenRequest{}, Response: CreatedToken{}, Handler: handlerFunc(s.createMyToken)},
		{Method: "DELETE", Pattern: "/api/v1/me/tokens/{id}", Role: access.Viewer, Self: true, Summary: "Revoke one of the caller's tokens.",
			Handler: done(s.revokeMyToken)},
		{Method: "PUT", Pattern: "/api/v1/me/password", Role: access.Viewer, Self: true, Summary: "Change the caller's password.",
			Body: SetPasswordRequest{}, Handler: done(s.setMyPassword)},
	}
}

func requireAdmin(ctx context.Context) error {
	return access.Require(ctx, access.Admin, access.ServerResource)
}

func accountName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if err := access.CheckName(name); err != nil {
		return "", invalid("name", err)
	}
	return name, nil
}

func (s *Server) listAccounts(r *http.Request) ([]access.Account, error) {
	if err := requireAdmin(r.Context()); err != nil {
		return nil, err
	}
	return s.o.Access.Accounts(r.Context())
}

func (s *Server) createAccount(r *http.Request) (*access.Account, error) {
	if err := requireAdmin(r.Context()); err != nil {
		return nil, err
	}
	var req CreateAccountRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	o, err := req.Options()
	if err != nil {
		return nil, err
	}
	return s.o.Access.CreateAccount(r.Context(), req.Name, o)
}

// adminAccount checks the caller is a server admin and validates the
// {name} path value.
func adminAccount(r *http.Request) (string, error) {
	if err := requireAdmin(r.Context()); err != nil {
		return "", err
	}
	return accountName(r)
}

func (s *Server) getAccount(r *http.Request) (*access.Account, error) {
	name, err := adminAccount(r)
	if err != nil {
		return nil, err
	}
	return s.o.Access.Account(r.Context(), name)
}

// keepAnAdmin refuses a change that would leave the server without an
// admin: deleting the last admin account or taking its server-wide admin
// role.
func (s *Server) keepAnAdmin(ctx context.Context, name string) error {
	gs, err := s.o.Access.Grants(ctx, &access.ServerResource)
	if err != nil {
		return err
	}
	admins, isAdmin := 0, false
	for _, g := range gs {
		if g.Role == access.Admin {
			admins++
			isAdmin = isAdmin || g.Account == name
		}
	}
	if isAdmin && admins == 1 {
		return errorf(KindConflict, "name", "%s is the server's last admin: make another admin first", name)
	}
	return nil
}

func (s *Server) deleteAccount(r *http.Request) error {
	name, err := adminAccount(r)
	if err != nil {
		return err
	}
	if err := s.keepAnAdmin(r.Context(), name); err != nil {
		return err
	}
	return s.o.Access.DeleteAccount(r.Context(), name)
}

func (s *Server) setPassword(r *http.Request) error {
	name, err := adminAccount(r)
	if err != nil {
		return err
	}
	return s.doSetPassword(r, name)
}

func (s *Server) doSetPassword(r *http.Request, name string) error {
	var req SetPasswordRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	return s.o.Access.SetPassword(r.Context(), name, req.Password)
}

func (s *Server) listTokens(r *http.Request) ([]access.Token, error) {
	name, err := adminAccount(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.o.Access.Account(r.Context(), name); err != nil {
		return nil, err
	}
	return s.o.Access.Tokens(r.Context(), name)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	name, err := adminAccount(r)
	if err != nil {
		return err
	}
	return s.doCreateToken(w, r, name)
}

func (s *Server) doCreateToken(w http.ResponseWriter, r *http.Request, name string) error {
	var req CreateTokenRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	o := access.TokenOptions{Description: req.Description}
	now := s.o.Access.Now()
	switch {
	case req.ExpiresIn != "" && req.Expires != "":
		return errorf(KindInvalid, "expires", "give expires_in or expires, not both")
	case req.ExpiresIn != "":
		d, err := ParseAge(req.ExpiresIn)
		if err != nil || d <= 0 {
			return errorf(KindInvalid, "expires_in", "expires_in %q: want an age like 90d, 12h or 30m", req.ExpiresIn)
		}
		o.Expires = now.Add(d)
	case req.Expires != "":
		t, err := time.Parse(time.RFC3339, req.Expires)
		if err != nil {
			return errorf(KindInvalid, "expires", "expires %q: want an RFC 3339 time", req.Expires)
		}
		o.Expires = t
	}
	secret, tok, err := s.o.Access.CreateToken(r.Context(), name, o)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, CreatedToken{Token: secret, Info: tok})
	return nil
}

func tokenID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if len(id) != 12 {
		return "", errorf(KindInvalid, "id", "token id %q: want the 12 hexadecimal digits after gyre_", id)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", errorf(KindInvalid, "id", "token id %q: want 12 hexadecimal digits", id)
		}
	}
	return id, nil
}

func (s *Server) revokeToken(r *http.Request) error {
	if err := requireAdmin(r.Context()); err != nil {
		return err
	}
	id, err := tokenID(r)
	if err != nil {
		return err
	}
	return s.o.Access.RevokeToken(r.Context(), id)
}

func (s *Server) listGrants(r *http.Request) ([]access.Grant, error) {
	var res *access.Resource
	need := access.ServerResource
	if q := r.URL.Query().Get("resource"); q != "" {
		rr, err := access.ParseResource(q)
		if err != nil {
			return nil, invalid("resource", err)
		}
		res, need = &rr, rr
	}
	if err := access.Require(r.Context(), access.Admin, need); err != nil {
		return nil, err
	}
	return s.o.Access.Grants(r.Context(), res)
}

func grantTarget(r *http.Request) (string, access.Resource, error) {
	name, err := accountName(r)
	if err != nil {
		return "", access.Resource{}, err
	}
	res, err := access.ParseResource(r.PathValue("resource"))
	if err != nil {
		return "", access.Resource{}, invalid("resource", err)
	}
	if res.Kind == access.Model {
		if err := checkName("resource", res.Name); err != nil {
			return "", access.Resource{}, err
		}
	}
	// Granting on a resource needs admin on it: a model's admins manage
	// their model's team, server admins everything.
	return name, res, access.Require(r.Context(), access.Admin, res)
}

func (s *Server) grant(r *http.Request) error {
	name, res, err := grantTarget(r)
	if err != nil {
		return err
	}
	var req GrantRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	role, err := access.ParseRole(req.Role)
	if err != nil {
		return invalid("role", err)
	}
	if res == access.ServerResource && role != access.Admin {
		if err := s.keepAnAdmin(r.Context(), name); err != nil {
			return err
		}
	}
	return s.o.Access.Grant(r.Context(), name, res, role)
}

func (s *Server) revokeGrant(r *http.Request) error {
	name, res, err := grantTarget(r)
	if err != nil {
		return err
	}
	if res == access.ServerResource {
		if err := s.keepAnAdmin(r.Context(), name); err != nil {
			return err
		}
	}
	return s.o.Access.Revoke(r.Context(), name, res)
}

func self(ctx context.Context) string { return access.PrincipalFrom(ctx).Name }

func (s *Server) listMyTokens(r *http.Request) ([]access.Token, error) {
	return s.o.Access.Tokens(r.Context(), self(r.Context()))
}

func (s *Server) createMyToken(w http.ResponseWriter, r *http.Request) error {
	return s.doCreateToken(w, r, self(r.Context()))
}

func (s *Server) revokeMyToken(r *http.Request) error {
	id, err := tokenID(r)
	if err != nil {
		return err
	}
	t, err := s.o.Access.Token(r.Context(), id)
	if err != nil {
		return err
	}
	if t.Account != self(r.Context()) {
		// Another account's token: the caller learns nothing about it.
		return errorf(KindNotFound, "id", "token %s: %v", id, access.ErrNotFound)
	}
	return s.o.Access.RevokeToken(r.Context(), id)
}

func (s *Server) setMyPassword(r *http.Request) error {
	return s.doSetPassword(r, self(r.Context()))
}

func (s *Server) auditRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/audit", Role: access.Admin, Summary: "The audit trail, newest first (server admins; a model's or experiment's admins for it).",
			Query: []Param{{"model", "a registered model's name"}, {"experiment", "an experiment id"}, {"resource_kind", "experiment, run, model, dataset, account, token, server"},
				{"resource", "a resource's name or id"}, {"user", "the actor"}, {"action", "action prefix, e.g. model.alias"},
				{"since", "RFC 3339, a date or an age (90d)"}, {"until", "RFC 3339 or a date"}, {"max_results", "page size"}, {"page_token", "next page"}},
			Response: List[audit.Entry]{}, Handler: handlerFunc(s.listAudit)},
	}
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p, err := pageParams(r)
	if err != nil {
		return err
	}
	aq := audit.Query{ResourceKind: q.Get("resource_kind"), Resource: q.Get("resource"), Actor: q.Get("user"),
		ActionPrefix: q.Get("action"), Limit: p.Limit, PageToken: p.Token}
	need := access.ServerResource
	if m := q.Get("model"); m != "" {
		if err := checkName("model", m); err != nil {
			return err
		}
		aq.ResourceKind, aq.Resource = "model", m
		need = modelRes(m)
	}
	if e := q.Get("experiment"); e != "" {
		if aq.ResourceKind != "" && q.Get("model") != "" {
			return errorf(KindInvalid, "experiment", "give model or experiment, not both")
		}
		aq.ResourceKind, aq.Resource = "experiment", e
		need = access.Resource{Kind: access.Experiment, Name: e}
	}
	now := time.Now()
	if aq.Since, err = parseSince("since", q.Get("since"), now); err != nil {
		return err
	}
	if aq.Until, err = parseSince("until", q.Get("until"), now); err != nil {
		return err
	}
	if err := access.Require(r.Context(), access.Admin, need); err != nil {
		return err
	}
	es, next, err := audit.List(r.Context(), s.o.DB, aq)
	if err != nil {
		return err
	}
	writeList(w, es, next)
	return nil
}

package access

import (
	"context"
	"errors"
	"fmt"
)

// Role is what a principal may do, ordered: each role allows everything the
// ones below it allow.
type Role int

// The roles. None is the zero value: no access.
const (
	None Role = iota
	// Viewer reads experiments, runs, models, data sets and monitoring.
	Viewer
	// Editor also writes them: logs runs, registers models, moves aliases.
	Editor
	// Admin also manages users, tokens and grants and reads the audit trail.
	Admin
)

var roleNames = [...]string{None: "none", Viewer: "viewer", Editor: "editor", Admin: "admin"}

// String returns the role's name.
func (r Role) String() string {
	if r < None || r > Admin {
		return fmt.Sprintf("Role(%d)", int(r))
	}
	return roleNames[r]
}

// ErrInvalidRole reports a role name other than viewer, editor or admin.
var ErrInvalidRole = errors.New("invalid role")

// ParseRole parses "viewer", "editor" or "admin".
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if r != int(None) && n == s {
			return Role(r), nil
		}
	}
	return None, fmt.Errorf("role %q: want viewer, editor or admin: %w", s, ErrInvalidRole)
}

// Kind is the kind of resource a role is granted on.
type Kind string

// Resource kinds that carry grants.
const (
	// Server is the whole server; its grants apply to every resource.
	Server Kind = "server"
	// Experiment is one experiment, named by its id (names can change).
	Experiment Kind = "experiment"
	// Model is one registered model, named by its name.
	Model Kind = "model"
)

// Resource is what a request acts on.
type Resource struct {
	Kind Kind
	// Name is the experiment id or the registered model name; empty for
	// Server.
	Name string
}

// ServerResource is the whole server.
var ServerResource = Resource{Kind: Server}

// String returns "server", "experiment:ID" or "model:NAME".
func (r Resource) String() string {
	if r.Kind == Server {
		return string(Server)
	}
	return string(r.Kind) + ":" + r.Name
}

// Errors that the server turns into 401 and 403.
var (
	// ErrUnauthenticated: no credentials, or an unknown, expired or revoked
	// token, or a wrong password.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: authenticated, but the role does not allow it.
	ErrForbidden = errors.New("permission denied")
)

// Principal is an authenticated caller and what it may do.
type Principal struct {
	// Name is the user or service account name; "anonymous" for an
	// unauthenticated caller on a server started with anonymous read.
	Name string
	// Service is true for a service account.
	Service bool
	// Anonymous is true for an unauthenticated caller.
	Anonymous bool
	// Role is granted server-wide.
	Role Role
	// Grants are roles on single experiments and models.
	Grants map[Resource]Role
}

// RoleOn returns the principal's effective role on r: the higher of its
// server-wide role and its grant on r.
func (p *Principal) RoleOn(r Resource) Role {
	if p == nil {
		return None
	}
	role := p.Role
	if r.Kind != Server {
		role = max(role, p.Grants[r])
	}
	return role
}

// Allow returns nil when the principal's role on r is at least need, else
// an error wrapping ErrUnauthenticated (anonymous or nil principal) or
// ErrForbidden.
func (p *Principal) Allow(need Role, r Resource) error {
	if p.RoleOn(r) >= need {
		return nil
	}
	if p == nil || p.Anonymous {
		return fmt.Errorf("%s on %s needs credentials: %w", need, r, ErrUnauthenticated)
	}
	return fmt.Errorf("%s is %s on %s, needs %s: %w", p.Name, p.RoleOn(r), r, need, ErrForbidden)
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal set by [WithPrincipal], or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Require checks that the context's principal has at least need on r. A
// context without a principal is unauthenticated: handlers behind the
// server's authentication middleware always have one.
func Require(ctx context.Context, need Role, r Resource) error {
	return PrincipalFrom(ctx).Allow(need, r)
}

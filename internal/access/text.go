package access

import "fmt"

// MarshalText writes the role's name, so roles read as "editor" in JSON.
func (r Role) MarshalText() ([]byte, error) {
	if r < None || r > Admin {
		return nil, fmt.Errorf("marshal role %d: %w", int(r), ErrInvalidRole)
	}
	return []byte(r.String()), nil
}

// UnmarshalText parses a role name ("none" included, for an absent role).
func (r *Role) UnmarshalText(b []byte) error {
	if string(b) == "none" {
		*r = None
		return nil
	}
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalText writes "server", "experiment:ID" or "model:NAME", so that
// resources read naturally in JSON, also as map keys.
func (r Resource) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses what MarshalText writes.
func (r *Resource) UnmarshalText(b []byte) error {
	v, err := ParseResource(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MaxRole returns the highest role the principal holds anywhere: its
// server-wide role or any grant. The server checks it before a route's
// handler runs, so a caller with no role high enough on any resource is
// refused without reaching the handler, which then checks the role on the
// resource it acts on.
func (p *Principal) MaxRole() Role {
	if p == nil {
		return None
	}
	role := p.Role
	for _, g := range p.Grants {
		role = max(role, g)
	}
	return role
}

// Actor kinds of principals, for the audit trail.
func (p *Principal) actorKind() string {
	switch {
	case p.Service:
		return "service"
	case p.Anonymous:
		return "anonymous"
	}
	return "user"
}

// ActorKind returns the audit actor kind of the principal: "user",
// "service" or "anonymous".
func (p *Principal) ActorKind() string { return p.actorKind() }

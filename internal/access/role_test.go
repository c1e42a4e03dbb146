package access

import (
	"context"
	"errors"
	"testing"
)

func TestAllow(t *testing.T) {
	model := Resource{Kind: Model, Name: "adult"}
	other := Resource{Kind: Model, Name: "churn"}
	team := &Principal{Name: "bob", Role: Viewer, Grants: map[Resource]Role{model: Editor}}
	anon := &Principal{Name: "anonymous", Anonymous: true, Role: Viewer}
	for _, c := range []struct {
		p    *Principal
		need Role
		r    Resource
		want error
	}{
		{team, Editor, model, nil},
		{team, Viewer, other, nil},
		{team, Editor, other, ErrForbidden},
		{team, Admin, model, ErrForbidden},
		{team, Editor, ServerResource, ErrForbidden},
		{anon, Viewer, model, nil},
		{anon, Editor, model, ErrUnauthenticated},
		{nil, Viewer, model, ErrUnauthenticated},
		{&Principal{Name: "root", Role: Admin}, Admin, other, nil},
	} {
		err := c.p.Allow(c.need, c.r)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%v needs %s on %s: got %v, want %v", c.p, c.need, c.r, err, c.want)
		}
	}
	if err := Require(context.Background(), Viewer, model); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("no principal: got %v", err)
	}
	if err := Require(WithPrincipal(context.Background(), team), Editor, model); err != nil {
		t.Errorf("principal in context: got %v", err)
	}
}

func TestParseRole(t *testing.T) {
	for _, s := range []string{"viewer", "editor", "admin"} {
		r, err := ParseRole(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseRole(%q) = %v, %v", s, r, err)
		}
	}
	for _, s := range []string{"", "none", "root", "Admin"} {
		if _, err := ParseRole(s); !errors.Is(err, ErrInvalidRole) {
			t.Errorf("ParseRole(%q): got %v, want ErrInvalidRole", s, err)
		}
	}
}

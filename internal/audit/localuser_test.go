package audit_test

import (
	"testing"

	"github.com/gyre-ml/gyre/internal/audit"
)

// TestLocalUserFollowsEnv checks that GYRE_USER is read on every call, not
// cached with the OS user: track, registry and dataset take their user from
// here when they are opened.
func TestLocalUserFollowsEnv(t *testing.T) {
	t.Setenv("GYRE_USER", "")
	os := audit.LocalUser()
	if os == "" {
		t.Fatal("empty local user")
	}
	t.Setenv("GYRE_USER", "alice")
	if got := audit.LocalUser(); got != "alice" {
		t.Errorf("with GYRE_USER=alice: %q", got)
	}
	t.Setenv("GYRE_USER", "")
	if got := audit.LocalUser(); got != os {
		t.Errorf("after unsetting GYRE_USER: %q, want %q", got, os)
	}
}

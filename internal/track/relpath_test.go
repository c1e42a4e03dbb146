package track_test

import (
	"errors"
	"testing"

	"github.com/gyre-ml/gyre/internal/track"
)

// TestCheckRelPath: paths that could leave their directory are refused
// with ErrInvalid; ordinary nested paths pass.
func TestCheckRelPath(t *testing.T) {
	for _, p := range []string{"model.gyre", "plots/roc.png", "a/b/c.d", "données/é.txt", "..x/y..", ".hidden"} {
		if err := track.CheckRelPath(p); err != nil {
			t.Errorf("CheckRelPath(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "/etc/passwd", "..", "../x", "a/../../b", "a/./b", "a//b", "a/", `a\..\b`, "a\x00b", "a\nb", "a\x7fb", "\xff"} {
		if err := track.CheckRelPath(p); !errors.Is(err, track.ErrInvalid) {
			t.Errorf("CheckRelPath(%q) = %v, want ErrInvalid", p, err)
		}
	}
}

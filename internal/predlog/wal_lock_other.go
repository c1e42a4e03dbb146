//go:build !unix

package predlog

import (
	"os"
	"path/filepath"
)

// lockDir opens dir's LOCK file. Without flock the directory is not
// locked: run one server per directory.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
}

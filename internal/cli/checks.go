package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gyre-ml/gyre/internal/registry"
)

// checkRegisterName checks a --register name before any work is done, so
// a bad name fails at once rather than after training (exit 2).
func checkRegisterName(cmd, name string) error {
	if name == "" {
		return nil
	}
	if err := registry.CheckName("model", name); err != nil {
		return usageErrorf("%s: --register: %v", cmd, err)
	}
	return nil
}

// checkOutPath checks, before any work is done, that a file can be
// created at an output path: its directory exists and is writable, and the
// path is not a directory (exit 2 otherwise). URLs (sqlite://, s3://...)
// are checked by their writers.
func checkOutPath(cmd, flag, path string) error {
	if path == "" || path == "-" || strings.Contains(path, "://") {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usageErrorf("%s: %s %s is a directory: give a file name", cmd, flag, path)
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageErrorf("%s: %s %s: directory %s does not exist: create it first", cmd, flag, path, dir)
	case err != nil:
		return usageErrorf("%s: %s %s: %v", cmd, flag, path, err)
	case !st.IsDir():
		return usageErrorf("%s: %s %s: %s is not a directory", cmd, flag, path, dir)
	}
	f, err := os.CreateTemp(dir, ".gyre-write-check-*")
	if err != nil {
		return usageErrorf("%s: %s %s: cannot create files in %s: %v", cmd, flag, path, dir, errors.Unwrap(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// badPath reports whether err is an operating-system refusal of a path
// (a missing directory, a file where a directory should be, no
// permission, a read-only file system): the path given is wrong, so the
// command exits 2 like any other bad input, wherever the path was found to
// be wrong.
func badPath(err error) bool {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		var le *os.LinkError
		if !errors.As(err, &le) {
			return false
		}
		err = le.Err
	} else {
		if pe.Op != "open" && pe.Op != "mkdir" && pe.Op != "stat" && pe.Op != "rename" && pe.Op != "createtemp" && pe.Op != "lstat" && pe.Op != "create a file in" {
			return false
		}
		err = pe.Err
	}
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EACCES) ||
		errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EPERM)
}

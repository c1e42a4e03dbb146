package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Logins is the file `gyre login` writes: a token per server URL, in
// os.UserConfigDir()/gyre/logins.json, mode 0600 in a 0700 directory.
type Logins struct {
	Servers map[string]Login `json:"servers"`
}

// Login is the token kept for one server.
type Login struct {
	User  string    `json:"user,omitempty"`
	Token string    `json:"token"`
	Saved time.Time `json:"saved"`
	// Expires is when the token stops authenticating, when gyre login
	// made it with an expiry (nil: never, or not known).
	Expires *time.Time `json:"expires,omitempty"`
}

// ErrLoginExpired reports a kept token past its expiry.
var ErrLoginExpired = errors.New("login expired")

// Token returns the token kept for the server at base ("" for none). A
// token known to have expired at now is an error wrapping ErrLoginExpired
// that says to log in again, rather than a request the server refuses
// with 401.
func (l *Logins) Token(base string, now time.Time) (string, error) {
	lg, ok := l.Servers[base]
	if !ok {
		return "", nil
	}
	if lg.Expires != nil && !now.Before(*lg.Expires) {
		return "", fmt.Errorf("the token kept for %s (user %s) expired at %s: run gyre login %s again: %w",
			base, lg.User, lg.Expires.Local().Format(time.RFC3339), base, ErrLoginExpired)
	}
	return lg.Token, nil
}

// LoginsPath is os.UserConfigDir()/gyre/logins.json.
func LoginsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", failure{fmt.Errorf("find the user config directory: %w", err)}
	}
	return filepath.Join(dir, "gyre", "logins.json"), nil
}

// LoadLogins reads the logins file; a missing file is no logins.
func LoadLogins() (*Logins, error) {
	p, err := LoginsPath()
	if err != nil {
		return nil, err
	}
	l := &Logins{Servers: map[string]Login{}}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, failure{fmt.Errorf("read logins %s: %w", p, err)}
	}
	if err := json.Unmarshal(b, l); err != nil {
		return nil, fmt.Errorf("read logins %s: %w (remove it and run gyre login again)", p, err)
	}
	if l.Servers == nil {
		l.Servers = map[string]Login{}
	}
	return l, nil
}

// Save writes the logins file with mode 0600 in a 0700 directory, through
// a temp file renamed into place.
func (l *Logins) Save() error {
	p, err := LoginsPath()
	if err != nil {
		return err
	}
	if err := writePrivate(p, l); err != nil {
		return failure{fmt.Errorf("save login: %w", err)}
	}
	return nil
}

func writePrivate(p string, v any) error {
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".logins-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

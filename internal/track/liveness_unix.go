//go:build unix

package track

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processStart returns an identifier of when process pid started (the
// start time field of /proc/PID/stat), or "" where there is no /proc.
func processStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22: starttime
}

// processAlive reports whether pid is a live process started at start
// (when recorded): a zombie, or a pid reused by a later process, is dead.
// known is always true here: signal 0 answers for any pid.
func processAlive(pid int, start string) (alive, known bool) {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false, true
	}
	b, rerr := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if rerr == nil {
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 0 && f[0] == "Z" {
				return false, true
			}
		}
	}
	if start != "" {
		if now := processStart(pid); now != "" && now != start {
			return false, true
		}
	}
	return true, true
}

package profile

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// ReadSaved reads the profile saved at path ('gyre profile --save': a
// .json file whose first 200 bytes name a "version"). It reports false,
// with no error, when path is not such a file (a data file to profile
// instead).
func ReadSaved(path string) (*Profile, bool, error) {
	if !strings.HasSuffix(strings.ToLower(path), ".json") {
		return nil, false, nil
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(data[:min(len(data), 200)], []byte(`"version"`)) {
		return nil, false, nil
	}
	p, err := Read(bytes.NewReader(data))
	if err != nil {
		return nil, true, fmt.Errorf("reference %s: %w", path, err)
	}
	return p, true, nil
}

package sqlsource

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// adultPath locates the adult training set shipped with the repository.
func adultPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "examples", "data", "adult", "adult.train.csv")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("adult data not found: %v", err)
	}
	return p
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

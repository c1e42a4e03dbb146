//go:build !unix

package retention

import "os"

// ownedByMe cannot tell here; the system temp directory is per user.
func ownedByMe(os.FileInfo) bool { return true }

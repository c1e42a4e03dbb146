package ingest

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// decompressed returns a path holding path's bytes uncompressed: path
// itself unless the file starts with a bzip2 or zstd signature, when it is
// decompressed into a temporary file (cleanup removes it). gzip is left to
// the readers, which stream it.
func decompressed(path, name string) (string, func(), error) {
	fh, err := os.Open(path)
	if err != nil {
		return path, nil, nil // the reader reports it with its own words
	}
	defer fh.Close()
	var magic [4]byte
	n, _ := io.ReadFull(fh, magic[:])
	var kind string
	switch {
	case n >= 3 && bytes.Equal(magic[:3], []byte("BZh")):
		kind = "bzip2"
	case n == 4 && bytes.Equal(magic[:], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		kind = "zstd"
	default:
		return path, nil, nil
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	var r io.Reader = bzip2.NewReader(fh)
	if kind == "zstd" {
		zr, err := zstd.NewReader(fh)
		if err != nil {
			return "", nil, fmt.Errorf("read %s: zstd: %w", name, err)
		}
		defer zr.Close()
		r = zr
	}
	tmp, err := os.CreateTemp("", "gyre-"+kind+"-*")
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, r); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("read %s: %s: %w (the file is corrupt or cut short)", name, kind, err)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	return tmp.Name(), cleanup, nil
}

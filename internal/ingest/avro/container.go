package avro

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"

	"github.com/gyre-ml/gyre/internal/ingest/docframe"
)

// Magic starts an Avro object container file.
var Magic = []byte("Obj\x01")

// maxBlock bounds one block of a container file.
const maxBlock = 1 << 30

// FileReader reads the records of an Avro object container file (.avro)
// block by block, in bounded memory: the header's schema and codec (null,
// deflate, snappy, zstandard or bzip2), then blocks of records, each
// followed by the file's sync marker.
type FileReader struct {
	r      *bufio.Reader
	schema *Schema
	codec  string
	sync   [16]byte
	block  []byte // the current block's undecoded records
	left   int64  // records left in the block
	rec    int64  // records read
	pos    int64  // bytes of the file consumed
	zdec   *zstd.Decoder
}

// NewFileReader reads the header of a container file.
func NewFileReader(r io.Reader) (*FileReader, error) {
	f := &FileReader{r: bufio.NewReaderSize(r, 1<<16)}
	var magic [4]byte
	if _, err := io.ReadFull(f.r, magic[:]); err != nil || !bytes.Equal(magic[:], Magic) {
		return nil, fmt.Errorf("%w: not an Avro object container file (no Obj\\x01 magic)", ErrData)
	}
	f.pos = 4
	meta := map[string][]byte{}
	for {
		n, err := f.long()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		if n < 0 {
			n = -n
			if _, err := f.long(); err != nil {
				return nil, err
			}
		}
		if n > 1<<16 {
			return nil, fmt.Errorf("%w: header metadata of %d entries", ErrData, n)
		}
		for ; n > 0; n-- {
			k, err := f.bytes(1 << 20)
			if err != nil {
				return nil, err
			}
			v, err := f.bytes(64 << 20)
			if err != nil {
				return nil, err
			}
			meta[string(k)] = v
		}
	}
	if _, err := io.ReadFull(f.r, f.sync[:]); err != nil {
		return nil, f.cut("header")
	}
	f.pos += 16
	text, ok := meta["avro.schema"]
	if !ok {
		return nil, fmt.Errorf("%w: the header has no avro.schema", ErrData)
	}
	s, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("the header's schema: %w", err)
	}
	f.schema = s
	f.codec = string(meta["avro.codec"])
	switch f.codec {
	case "":
		f.codec = "null"
	case "null", "deflate", "snappy", "zstandard", "bzip2":
	default:
		return nil, fmt.Errorf("%w: codec %q is not read (Gyre reads null, deflate, snappy, zstandard and bzip2)", ErrData, f.codec)
	}
	return f, nil
}

// Schema returns the file's schema.
func (f *FileReader) Schema() *Schema { return f.schema }

// Codec returns the file's compression codec.
func (f *FileReader) Codec() string { return f.codec }

// Records returns how many records have been read.
func (f *FileReader) Records() int64 { return f.rec }

// Offset returns how many bytes of the file have been read.
func (f *FileReader) Offset() int64 { return f.pos }

func (f *FileReader) cut(what string) error {
	return fmt.Errorf("%w: the file is cut short in the %s (byte %d)", ErrData, what, f.pos)
}

func (f *FileReader) long() (int64, error) {
	var u uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c, err := f.r.ReadByte()
		if err != nil {
			return 0, f.cut("a block header")
		}
		f.pos++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, fmt.Errorf("%w: a number longer than 10 bytes at byte %d", ErrData, f.pos)
}

func (f *FileReader) bytes(max int64) ([]byte, error) {
	n, err := f.long()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > max {
		return nil, fmt.Errorf("%w: a length of %d at byte %d", ErrData, n, f.pos)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(f.r, b); err != nil {
		return nil, f.cut("header")
	}
	f.pos += n
	return b, nil
}

// Next decodes the next record into b (one row), or returns io.EOF after
// the last.
func (f *FileReader) Next(b *docframe.Builder) error {
	for f.left == 0 {
		if err := f.nextBlock(); err != nil {
			return err
		}
	}
	rest, err := f.schema.Decode(f.block, b)
	if err != nil {
		return fmt.Errorf("record %d: %w", f.rec+1, err)
	}
	f.block = rest
	f.left--
	f.rec++
	if f.left == 0 && len(f.block) != 0 {
		return fmt.Errorf("%w: %d bytes left in the block after its records (record %d)", ErrData, len(f.block), f.rec)
	}
	return nil
}

func (f *FileReader) nextBlock() error {
	if _, err := f.r.Peek(1); errors.Is(err, io.EOF) {
		return io.EOF
	}
	n, err := f.long()
	if err != nil {
		return err
	}
	size, err := f.long()
	if err != nil {
		return err
	}
	if n < 0 || size < 0 || size > maxBlock {
		return fmt.Errorf("%w: a block of %d records in %d bytes at byte %d", ErrData, n, size, f.pos)
	}
	raw := make([]byte, size)
	if _, err := io.ReadFull(f.r, raw); err != nil {
		return f.cut("a block")
	}
	f.pos += size
	var sync [16]byte
	if _, err := io.ReadFull(f.r, sync[:]); err != nil {
		return f.cut("a block's sync marker")
	}
	f.pos += 16
	if sync != f.sync {
		return fmt.Errorf("%w: the sync marker after the block ending at byte %d does not match the header's (corrupt file)", ErrData, f.pos)
	}
	if f.block, err = f.inflate(raw); err != nil {
		return fmt.Errorf("%w: block at byte %d: %s: %w", ErrData, f.pos-16-size, f.codec, err)
	}
	f.left = n
	return nil
}

func (f *FileReader) inflate(raw []byte) ([]byte, error) {
	switch f.codec {
	case "deflate":
		return readAllMax(flate.NewReader(bytes.NewReader(raw)))
	case "bzip2":
		return readAllMax(bzip2.NewReader(bytes.NewReader(raw)))
	case "snappy":
		if len(raw) < 4 {
			return nil, errors.New("a block without its CRC")
		}
		out, err := snappy.Decode(nil, raw[:len(raw)-4])
		if err != nil {
			return nil, err
		}
		if crc32.ChecksumIEEE(out) != binary.BigEndian.Uint32(raw[len(raw)-4:]) {
			return nil, errors.New("CRC mismatch")
		}
		return out, nil
	case "zstandard":
		if f.zdec == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			f.zdec = d
		}
		return f.zdec.DecodeAll(raw, nil)
	}
	return raw, nil
}

func readAllMax(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, maxBlock+1))
	if err == nil && len(out) > maxBlock {
		err = fmt.Errorf("a block inflates past %d bytes", maxBlock)
	}
	return out, err
}

// Close releases the decompressor.
func (f *FileReader) Close() {
	if f.zdec != nil {
		f.zdec.Close()
	}
}

package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf16"
	"unicode/utf8"
)

// This file looks at a local file's first bytes before a reader parses
// it, so that no file is parsed as something it is not: a binary format
// Gyre does not read is an error naming the file, what it looks like and
// the formats Gyre reads (an Arrow stream once read as a 7-row CSV and an
// Avro file as 0 rows); a text file holding NUL bytes is refused; UTF-16
// text (with or without a byte-order mark) is transcoded to UTF-8.

// sniffSize is how much of a file the content checks read.
const sniffSize = 64 << 10

// formatsRead names the formats Gyre reads, for errors.
const formatsRead = "CSV/TSV, JSON Lines, JSON (an array of objects), Parquet, Arrow IPC / Feather v2, Avro container files, Excel .xlsx, optionally gzip/bzip2/zstd compressed"

// magic is a recognised file signature.
type magic struct {
	name   string
	prefix []byte
	offset int
}

// foreign lists binary formats Gyre does not read, by signature.
var foreign = []magic{
	{"an Arrow IPC file / Feather v2 (name it .arrow or .feather)", []byte("ARROW1"), 0},
	{"an Arrow IPC stream (name it .arrows)", []byte{0xff, 0xff, 0xff, 0xff}, 0},
	{"a Feather v1 file (write it again as Feather v2, pyarrow.feather.write_feather's default)", []byte("FEA1"), 0},
	{"an Avro object container file (name it .avro)", []byte("Obj\x01"), 0},
	{"an ORC file", []byte("ORC"), 0},
	{"a SQLite database (read it with a sqlite:///path?table=NAME source)", []byte("SQLite format 3\x00"), 0},
	{"a legacy Excel .xls (OLE2) workbook (save it as .xlsx or CSV)", []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, 0},
	{"a PDF document", []byte("%PDF-"), 0},
	{"a 7-zip archive", []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, 0},
	{"an xz-compressed file", []byte{0xfd, '7', 'z', 'X', 'Z', 0}, 0},
	{"an HDF5 file", []byte{0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'}, 0},
	{"a NumPy .npy array", []byte("\x93NUMPY"), 0},
	{"a Python pickle", []byte{0x80, 0x04, 0x95}, 0},
	{"a Python pickle", []byte{0x80, 0x05, 0x95}, 0},
	{"a PNG image", []byte{0x89, 'P', 'N', 'G'}, 0},
	{"a JPEG image", []byte{0xff, 0xd8, 0xff}, 0},
}

// head reads up to sniffSize bytes of path.
func head(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b := make([]byte, sniffSize)
	n, err := io.ReadFull(fh, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:n], nil
}

// isArrow reports whether b starts like an Arrow IPC file (the ARROW1
// magic) or stream (a continuation marker then a schema message's length).
func isArrow(b []byte) bool {
	if bytes.HasPrefix(b, []byte("ARROW1")) {
		return true
	}
	return len(b) >= 8 && bytes.HasPrefix(b, []byte{0xff, 0xff, 0xff, 0xff}) && b[7] == 0 && (b[4] != 0 || b[5] != 0 || b[6] != 0)
}

// foreignFormat names the unsupported binary format b starts with, or "".
func foreignFormat(b []byte) string {
	for _, m := range foreign {
		if len(b) >= m.offset+len(m.prefix) && bytes.Equal(b[m.offset:m.offset+len(m.prefix)], m.prefix) {
			return m.name
		}
	}
	return ""
}

// utf16Order reports whether b is UTF-16 text and in which byte order:
// a byte-order mark, or (without one) text whose every other byte is zero
// where the rest are printable ASCII, as UTF-16 writes Latin text.
func utf16Order(b []byte) (order string, bom bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return "LE", true
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return "BE", true
	}
	n := min(len(b), 4096) &^ 1
	if n < 4 {
		return "", false
	}
	var zeroEven, zeroOdd, asciiEven, asciiOdd int
	for i := 0; i < n; i += 2 {
		if b[i] == 0 {
			zeroEven++
		} else if b[i] < 0x80 {
			asciiEven++
		}
		if b[i+1] == 0 {
			zeroOdd++
		} else if b[i+1] < 0x80 {
			asciiOdd++
		}
	}
	pairs := n / 2
	switch {
	case zeroOdd*10 >= pairs*9 && asciiEven*10 >= pairs*9:
		return "LE", false
	case zeroEven*10 >= pairs*9 && asciiOdd*10 >= pairs*9:
		return "BE", false
	}
	return "", false
}

// checkText refuses what is not text for a text reader (CSV, JSON): a
// known binary format, or NUL bytes, naming the offset. It returns the
// UTF-16 byte order when the file is UTF-16 ("" for UTF-8).
func checkText(b []byte, name, as string) (utf16 string, err error) {
	if what := foreignFormat(b); what != "" {
		return "", fmt.Errorf("read %s: the file is %s, not %s: Gyre reads %s: %w", name, what, as, formatsRead, ErrFormat)
	}
	if order, _ := utf16Order(b); order != "" {
		return order, nil
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		line := 1 + bytes.Count(b[:i], []byte{'\n'})
		return "", &ParseError{Source: name, Row: line, Err: fmt.Errorf("%w: a NUL byte (0x00) at byte %d: this is binary data, not %s text (Gyre reads %s)", ErrFormat, i, as, formatsRead)}
	}
	return "", nil
}

// transcodeUTF16 writes path's UTF-16 text (order "LE" or "BE", a
// byte-order mark dropped) as UTF-8 to a temporary file, returned with
// its cleanup.
func transcodeUTF16(path, name, order string) (string, func(), error) {
	in, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp("", "gyre-utf8-*")
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	br := bufio.NewReaderSize(in, 1<<16)
	bw := bufio.NewWriterSize(tmp, 1<<16)
	var pair [2]byte
	var units []uint16
	var out []byte
	first := true
	flush := func(final bool) {
		keep := 0
		if !final && len(units) > 0 && utf16.IsSurrogate(rune(units[len(units)-1])) {
			keep = 1 // a high surrogate waits for its pair
		}
		for _, r := range utf16.Decode(units[:len(units)-keep]) {
			out = utf8.AppendRune(out[:0], r)
			bw.Write(out)
		}
		units = append(units[:0], units[len(units)-keep:]...)
	}
	for {
		if _, err := io.ReadFull(br, pair[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				cleanup()
				return "", nil, fmt.Errorf("read %s: UTF-16 text with an odd number of bytes: the file is cut short", name)
			}
			break
		}
		u := uint16(pair[0]) | uint16(pair[1])<<8
		if order == "BE" {
			u = uint16(pair[1]) | uint16(pair[0])<<8
		}
		if first && u == 0xfeff {
			first = false
			continue
		}
		first = false
		units = append(units, u)
		if len(units) >= 4096 {
			flush(false)
		}
	}
	flush(true)
	if err := bw.Flush(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("read %s: transcode UTF-16: %w", name, err)
	}
	return tmp.Name(), cleanup, nil
}

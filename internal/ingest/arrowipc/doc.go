// Package arrowipc reads Apache Arrow IPC data as Gyre frames: the IPC
// file format (and Feather v2, which is that format under another name)
// and the IPC stream format, record batch by record batch in bounded
// memory.
//
// It is a focused reader written against the Arrow columnar format
// specification (format/Schema.fbs, Message.fbs, File.fbs): the
// encapsulated message framing (the 0xFFFFFFFF continuation marker and
// the older length-only prefix, the end-of-stream marker or a clean end of
// data), Schema, RecordBatch and DictionaryBatch messages (replacement and
// delta dictionaries), the file footer's blocks, and LZ4_FRAME and ZSTD
// body compression (per buffer, with the uncompressed-length prefix, -1 for
// a buffer stored as is). The metadata is read with a small bounds-checked
// FlatBuffers table reader (flatbuf.go): a corrupt or truncated file is an
// error wrapping ErrFormat, never a panic.
//
// Arrow types map to frame kinds as:
//
//	int8..int64, uint8..uint64        int (a uint64 above 2^63-1 is an error naming the row)
//	float16, float32, float64         float
//	decimal32/64/128/256              float (value / 10^scale; rounded to float64)
//	bool                              bool
//	utf8, large_utf8, utf8_view       string, or categorical when few distinct values
//	                                  (at most MaxLevels, and at most half the present values)
//	dictionary<utf8> (any int index)  categorical with the dictionary as levels
//	                                  (free text past MaxLevels levels)
//	date32[day], date64[ms]           time (midnight UTC)
//	timestamp[s|ms|us|ns, tz]         time (Arrow stores instants as UTC; a zone-less
//	                                  timestamp is read as UTC wall time)
//	null                              float, every value missing
//
// Validity bitmaps become frame validity. Any other type (nested lists and
// structs, binary, time of day, durations, intervals, dictionaries of
// non-text values) is an error wrapping ErrUnsupported that names the
// source, the column and the Arrow type, unless the column is left out by
// the columns argument, in which case its buffers are skipped unread. A
// big-endian file and a Feather v1 file are refused the same way.
package arrowipc

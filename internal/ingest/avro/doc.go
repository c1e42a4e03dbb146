// Package avro decodes Apache Avro binary data into docframe builders, and
// writes frames as object container files (FileWriter).
//
// Decoding covers single datums (a Kafka message's value, bare or after
// the Confluent wire format's magic byte and schema id) and object
// container files (.avro), block by block.
//
// It is a focused decoder written against the Avro 1.11 specification, not
// a general Avro library: schemas in their JSON form (named records, enums
// and fixed with namespaces, references to names parsed before, for the
// schema registry's references; unions; arrays and maps), and the binary
// encoding (zig-zag varints, length-prefixed bytes and strings, blocked
// arrays and maps with negative counts). A record's fields become columns,
// nested records flattened to "a.b" as JSON documents are; a union's null
// is a missing value; enums are text; arrays, maps and records that contain
// themselves are kept as JSON text. Logical types: date and the
// timestamp-millis/micros/nanos (local ones too) as times, decimal (bytes or
// fixed) as float, uuid as text; bytes and fixed otherwise as base64 text.
// Container files may use the null, deflate, snappy (with its CRC),
// zstandard or bzip2 codecs; a block whose sync marker does not match the
// header's is an error. Every length is checked against the data left, so
// malformed input is an error wrapping ErrData or ErrSchema, never a panic.
//
// FileWriter writes a record schema derived from a frame's columns (see
// SchemaFor): each field a union of null and double, long, boolean,
// timestamp-micros or string; column names that are not Avro names are
// kept in a "gyre.column" field attribute, which the decoder reads back as
// the column name.
package avro

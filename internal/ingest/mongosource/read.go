package mongosource

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/ingest/docframe"
)

func init() {
	ingest.RegisterScheme("mongodb", Source{})
	ingest.RegisterScheme("mongodb+srv", Source{})
}

// Source reads and writes mongodb:// URLs; it is registered with package
// ingest for the schemes mongodb and mongodb+srv.
type Source struct{}

// Error is a failure to reach or use the server (down, refused
// credentials, a missing collection): an input error, exit code 2.
type Error struct {
	// Source is the URL with credentials removed.
	Source string
	// Op is what was being done ("connect", "find", ...).
	Op  string
	Err error
}

// Error renders "mongodb SOURCE: op: cause".
func (e *Error) Error() string { return fmt.Sprintf("mongodb %s: %s: %v", e.Source, e.Op, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// InputError marks the error as the input's fault (exit code 2 in the CLI).
func (e *Error) InputError() bool { return true }

// connectTimeout bounds finding a server: a server that is down fails in
// this long, not the driver's 30 s.
const connectTimeout = 10 * time.Second

// connect opens a client and checks the server answers and the
// credentials are accepted.
func (s *source) connect(ctx context.Context) (*mongo.Client, error) {
	// Our bounds first, so serverSelectionTimeoutMS= and connectTimeoutMS=
	// in the URL override them.
	co := options.Client().SetServerSelectionTimeout(connectTimeout).SetConnectTimeout(connectTimeout).ApplyURI(s.uri)
	if err := co.Validate(); err != nil {
		return nil, &Error{s.display, "connect", redactErr(err, s.uri, s.display)}
	}
	if s.hasPass {
		if co.Auth == nil {
			co.Auth = &options.Credential{}
		}
		co.Auth.Password, co.Auth.PasswordSet = s.password, true
	}
	c, err := mongo.Connect(co)
	if err != nil {
		return nil, &Error{s.display, "connect", redactErr(err, s.uri, s.display)}
	}
	if err := c.Ping(ctx, nil); err != nil {
		c.Disconnect(context.WithoutCancel(ctx))
		return nil, &Error{s.display, "connect", explain(redactErr(err, s.uri, s.display))}
	}
	return c, nil
}

// explain shortens the driver's server-selection errors to their cause.
func explain(err error) error {
	m := err.Error()
	switch {
	case strings.Contains(m, "connection refused"):
		return fmt.Errorf("no server is listening (connection refused); is MongoDB running at this address? (%w)", err)
	case strings.Contains(m, "Authentication failed"), strings.Contains(m, "AuthenticationFailed"), strings.Contains(m, "auth error"):
		return fmt.Errorf("the server refused the credentials: check the user and the password (password-env= or password-file=): %w", err)
	case strings.Contains(m, "server selection timeout"):
		return fmt.Errorf("no server answered within %s: %w", connectTimeout, err)
	}
	return err
}

// checkCollection fails when the collection does not exist, naming the
// ones that do.
func (s *source) checkCollection(ctx context.Context, c *mongo.Client) error {
	names, err := c.Database(s.db).ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return &Error{s.display, "list collections", explain(redactErr(err, s.uri, s.display))}
	}
	for _, n := range names {
		if n == s.coll {
			return nil
		}
	}
	have := "it has none"
	if len(names) > 0 {
		if len(names) > 20 {
			names = append(names[:20], "...")
		}
		have = "it has " + strings.Join(names, ", ")
	}
	return &Error{s.display, "find", fmt.Errorf("no collection %q in database %q (%s)", s.coll, s.db, have)}
}

// count returns the collection's document count from its statistics, for
// progress; 0 when the server does not say. Not the count command: FerretDB
// answers it (and estimatedDocumentCount) by scanning every document.
func (s *source) count(ctx context.Context, c *mongo.Client) int64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var st struct {
		Count int64 `bson:"count"`
	}
	if err := c.Database(s.db).RunCommand(ctx, bson.D{{Key: "collStats", Value: s.coll}}).Decode(&st); err != nil {
		return 0
	}
	return st.Count
}

// Read implements ingest.Source: every matching document as one frame.
func (Source) Read(ctx context.Context, raw string, opt ingest.Options) (*frame.Frame, error) {
	var out *frame.Frame
	err := scan(ctx, raw, opt, 0, func(c *ingest.Chunk) error { out = c.Frame; return nil })
	return out, err
}

// Stream implements ingest.Source: chunks of about chunkRows documents.
func (Source) Stream(ctx context.Context, raw string, opt ingest.Options, chunkRows int, fn func(*ingest.Chunk) error) error {
	return scan(ctx, raw, opt, chunkRows, fn)
}

// scan runs the query and feeds fn chunks of chunkRows documents (one
// chunk of all of them when chunkRows is 0).
func scan(ctx context.Context, raw string, opt ingest.Options, chunkRows int, fn func(*ingest.Chunk) error) error {
	s, err := parseURL(raw, false)
	if err != nil {
		return err
	}
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Disconnect(context.WithoutCancel(ctx))
	if err := s.checkCollection(ctx, c); err != nil {
		return err
	}
	coll := c.Database(s.db).Collection(s.coll)
	var total int64
	if len(s.filter) == 0 {
		total = s.count(ctx, c)
	}
	fo := options.Find()
	if s.batch > 0 {
		fo.SetBatchSize(s.batch)
	}
	if len(s.projection) > 0 {
		fo.SetProjection(s.projection)
	}
	filter := s.filter
	if filter == nil {
		filter = bson.D{}
	}
	cur, err := coll.Find(ctx, filter, fo)
	if err != nil {
		return &Error{s.display, "find", explain(redactErr(err, s.uri, s.display))}
	}
	defer cur.Close(context.WithoutCancel(ctx))

	sample := s.sample
	if sample == 0 {
		sample = opt.InferRows
	}
	if sample <= 0 {
		sample = DefaultSample
	}
	if chunkRows > 0 && sample > chunkRows {
		sample = chunkRows
	}
	d := &decoder{src: s, sample: sample, explode: s.explode}
	d.b = docframe.New(opt.CategoricalMax)
	d.b.Skipped = func(field string) {
		if opt.Warn != nil {
			opt.Warn(fmt.Sprintf("mongodb %s: field %q first appears after the %d documents that fixed the columns; it is skipped (raise &sample=)", s.display, field, sample))
		}
	}
	for name, o := range opt.Schema {
		if o.Type != frame.KindInvalid {
			d.b.Declare(name, o.Type)
		}
	}
	first := 0
	emit := func() error {
		f, err := d.b.Frame()
		if err != nil {
			return fmt.Errorf("read %s: %w", s.display, err)
		}
		n := d.docs
		if err := fn(&ingest.Chunk{Frame: f, Row: first, Done: int64(n), Total: max(total, int64(n))}); err != nil {
			return err
		}
		first = n
		d.b.Fix()
		d.b = d.b.Like()
		return nil
	}
	for cur.Next(ctx) {
		if err := d.document(cur.Current); err != nil {
			return err
		}
		if d.docs == sample {
			d.b.Fix()
		}
		if chunkRows > 0 && d.b.Rows() >= chunkRows {
			if err := emit(); err != nil {
				return err
			}
		}
	}
	if err := cur.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &Error{s.display, fmt.Sprintf("read after document %d", d.docs), explain(redactErr(err, s.uri, s.display))}
	}
	if d.b.Rows() > 0 || first == 0 {
		d.b.Fix()
		return emit()
	}
	return nil
}

// decoder flattens BSON documents into a docframe.Builder.
type decoder struct {
	src     *source
	b       *docframe.Builder
	sample  int
	explode bool
	docs    int
	path    []byte
	js      []byte
	id      []byte // the current document's _id element
}

// document adds one document.
func (d *decoder) document(raw bson.Raw) error {
	d.docs++
	d.b.StartRow()
	d.id = nil
	if err := d.fields(nil, bsoncore.Document(raw), true); err != nil {
		var te *docframe.TypeError
		if errors.As(err, &te) {
			why := fmt.Sprintf("the type was inferred from the first %d documents; declare the field's type with --schema or read a larger sample with &sample=N", d.sample)
			if te.Declared {
				why = "declared in the schema"
			}
			return &ingest.ParseError{Source: d.src.display, Row: d.docs, Column: te.Column,
				Err: fmt.Errorf("%w: document _id %s: %s %s is not %s (%s)", ingest.ErrType, d.idText(), te.Got, te.Value, docframe.KindPhrase(te.Want), why)}
		}
		return &ingest.ParseError{Source: d.src.display, Row: d.docs, Err: fmt.Errorf("document _id %s: %w", d.idText(), err)}
	}
	return nil
}

// idText renders the current document's _id for messages.
func (d *decoder) idText() string {
	if d.id == nil {
		return "(none)"
	}
	e := bsoncore.Element(d.id)
	v := e.Value()
	switch v.Type {
	case bsoncore.TypeObjectID:
		return `ObjectId("` + hex.EncodeToString(v.Data[:12]) + `")`
	case bsoncore.TypeString:
		s, _ := v.StringValueOK()
		return strconv.Quote(s)
	}
	return v.String()
}

// fields walks a document's elements under a path prefix.
func (d *decoder) fields(prefix []byte, doc []byte, top bool) error {
	if len(doc) < 5 {
		return errors.New("malformed document")
	}
	rest := doc[4 : len(doc)-1]
	for len(rest) > 0 {
		e, r, ok := bsoncore.ReadElement(rest)
		if !ok {
			return errors.New("malformed document")
		}
		rest = r
		key := e.KeyBytes()
		if top && string(key) == "_id" {
			d.id = e
		}
		path := append(d.path[:0], prefix...)
		if len(prefix) > 0 {
			path = append(path, '.')
		}
		path = append(path, key...)
		d.path = path
		v := e.Value()
		if err := d.value(path, v); err != nil {
			return err
		}
	}
	return nil
}

// value records one element's value under its flattened name.
func (d *decoder) value(name []byte, v bsoncore.Value) error {
	b := d.b
	switch v.Type {
	case bsoncore.TypeDouble:
		return b.Float(name, math.Float64frombits(binary.LittleEndian.Uint64(v.Data)))
	case bsoncore.TypeInt32:
		return b.Int(name, int64(int32(binary.LittleEndian.Uint32(v.Data))))
	case bsoncore.TypeInt64:
		return b.Int(name, int64(binary.LittleEndian.Uint64(v.Data)))
	case bsoncore.TypeBoolean:
		return b.Bool(name, v.Data[0] != 0)
	case bsoncore.TypeString, bsoncore.TypeSymbol, bsoncore.TypeJavaScript:
		n := int(binary.LittleEndian.Uint32(v.Data))
		if n < 1 || 4+n > len(v.Data) {
			return errors.New("malformed string")
		}
		return b.String(name, v.Data[4:4+n-1])
	case bsoncore.TypeDateTime:
		ms := int64(binary.LittleEndian.Uint64(v.Data))
		return b.Time(name, ms*int64(time.Millisecond))
	case bsoncore.TypeTimestamp:
		t, _, _ := v.TimestampOK()
		return b.Time(name, int64(t)*int64(time.Second))
	case bsoncore.TypeNull, bsoncore.TypeUndefined:
		b.Null(name)
		return nil
	case bsoncore.TypeObjectID:
		var buf [24]byte
		hex.Encode(buf[:], v.Data[:12])
		return b.String(name, buf[:])
	case bsoncore.TypeDecimal128:
		hi, lo, _ := v.Decimal128OK()
		f, err := strconv.ParseFloat(bson.NewDecimal128(hi, lo).String(), 64)
		if err != nil {
			b.Null(name)
			return nil
		}
		return b.Float(name, f)
	case bsoncore.TypeEmbeddedDocument:
		// Copy the prefix: d.path is reused below.
		prefix := append([]byte(nil), name...)
		return d.fields(prefix, v.Data, false)
	case bsoncore.TypeArray:
		if d.explode {
			prefix := append([]byte(nil), name...)
			return d.fields(prefix, v.Data, false)
		}
		d.js = appendJSON(d.js[:0], v)
		return b.String(name, d.js)
	case bsoncore.TypeBinary:
		_, data, _ := v.BinaryOK()
		return b.String(name, []byte(hex.EncodeToString(data)))
	}
	// Regular expressions, code with scope, DB pointers, min/max keys:
	// kept as their extended JSON text.
	return b.String(name, []byte(v.String()))
}

// appendJSON renders a BSON value as plain JSON: numbers, strings,
// booleans, null, nested documents and arrays; dates as RFC 3339 strings,
// object ids as hex strings.
func appendJSON(dst []byte, v bsoncore.Value) []byte {
	switch v.Type {
	case bsoncore.TypeDouble:
		f := math.Float64frombits(binary.LittleEndian.Uint64(v.Data))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case bsoncore.TypeInt32:
		return strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(v.Data))), 10)
	case bsoncore.TypeInt64:
		return strconv.AppendInt(dst, int64(binary.LittleEndian.Uint64(v.Data)), 10)
	case bsoncore.TypeBoolean:
		return strconv.AppendBool(dst, v.Data[0] != 0)
	case bsoncore.TypeNull, bsoncore.TypeUndefined:
		return append(dst, "null"...)
	case bsoncore.TypeString:
		s, _ := v.StringValueOK()
		return ingest.AppendJSONString(dst, s)
	case bsoncore.TypeDateTime:
		ms := int64(binary.LittleEndian.Uint64(v.Data))
		return ingest.AppendJSONString(dst, time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
	case bsoncore.TypeObjectID:
		return ingest.AppendJSONString(dst, hex.EncodeToString(v.Data[:12]))
	case bsoncore.TypeArray, bsoncore.TypeEmbeddedDocument:
		isArr := v.Type == bsoncore.TypeArray
		if isArr {
			dst = append(dst, '[')
		} else {
			dst = append(dst, '{')
		}
		rest := v.Data[4 : len(v.Data)-1]
		first := true
		for len(rest) > 0 {
			e, r, ok := bsoncore.ReadElement(rest)
			if !ok {
				break
			}
			rest = r
			if !first {
				dst = append(dst, ',')
			}
			first = false
			if !isArr {
				dst = ingest.AppendJSONString(dst, e.Key())
				dst = append(dst, ':')
			}
			dst = appendJSON(dst, e.Value())
		}
		if isArr {
			return append(dst, ']')
		}
		return append(dst, '}')
	}
	return ingest.AppendJSONString(dst, v.String())
}

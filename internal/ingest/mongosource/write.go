package mongosource

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// Create implements ingest.Destination. Rows are inserted into a temporary
// collection in the same database, renamed onto the target by Close, so
// readers never see a half-written collection; Abort (or a failed write)
// drops it. The target must not exist unless the URL says &replace=true.
func (Source) Create(ctx context.Context, dest string) (ingest.Sink, error) {
	s, err := parseURL(dest, true)
	if err != nil {
		return nil, err
	}
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	db := c.Database(s.db)
	names, err := db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: s.coll}})
	if err != nil {
		c.Disconnect(context.WithoutCancel(ctx))
		return nil, &Error{s.display, "list collections", explain(redactErr(err, s.uri, s.display))}
	}
	if len(names) > 0 && !s.replace {
		c.Disconnect(context.WithoutCancel(ctx))
		return nil, &Error{s.display, "write", fmt.Errorf("collection %q already exists in database %q (add &replace=true to replace it)", s.coll, s.db)}
	}
	var r [6]byte
	rand.Read(r[:])
	tmp := "gyre_tmp_" + hex.EncodeToString(r[:]) + "_" + s.coll
	return &sink{src: s, client: c, tmp: db.Collection(tmp), tmpName: tmp}, nil
}

// sink writes chunks to the temporary collection.
type sink struct {
	src     *source
	client  *mongo.Client
	tmp     *mongo.Collection
	tmpName string
	tree    []*node
	docs    []any
	buf     []byte
	rows    int
	done    bool
}

// node is a field of the documents written: a column, or a sub-document
// of the columns named with its path as prefix (a.b and a.c become
// {a: {b, c}}).
type node struct {
	key      string
	col      int
	children []*node
}

// buildTree nests dotted column names into sub-documents.
func buildTree(names []string) []*node {
	var roots []*node
	find := func(list []*node, key string) *node {
		for _, n := range list {
			if n.key == key {
				return n
			}
		}
		return nil
	}
	for j, name := range names {
		parts := strings.Split(name, ".")
		if name == "_id" || len(parts) == 1 || strings.Contains(name, "..") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
			roots = append(roots, &node{key: name, col: j})
			continue
		}
		list := &roots
		ok := true
		for _, p := range parts[:len(parts)-1] {
			n := find(*list, p)
			if n == nil {
				n = &node{key: p, col: -1}
				*list = append(*list, n)
			} else if n.col >= 0 {
				ok = false // a column already has this name: keep the dotted key
				break
			}
			list = &n.children
		}
		leaf := parts[len(parts)-1]
		if !ok || find(*list, leaf) != nil {
			roots = append(roots, &node{key: name, col: j})
			continue
		}
		*list = append(*list, &node{key: leaf, col: j})
	}
	return roots
}

// Format implements ingest.Sink: documents are built from the frame.
func (w *sink) Format() string { return "" }

// WriteChunk implements ingest.Sink.
func (w *sink) WriteChunk(ctx context.Context, f *frame.Frame, _ []byte) error {
	if w.tree == nil {
		w.tree = buildTree(f.Names())
	}
	cols := f.Columns()
	n := f.NumRows()
	const batch = 4096
	for lo := 0; lo < n; lo += batch {
		hi := min(n, lo+batch)
		w.docs = w.docs[:0]
		w.buf = w.buf[:0]
		var offs []int
		for i := lo; i < hi; i++ {
			start := len(w.buf)
			w.buf = appendDoc(w.buf, w.tree, cols, i)
			offs = append(offs, start)
		}
		for k, start := range offs {
			end := len(w.buf)
			if k+1 < len(offs) {
				end = offs[k+1]
			}
			w.docs = append(w.docs, bson.Raw(w.buf[start:end]))
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		_, err := w.tmp.InsertMany(cctx, w.docs, options.InsertMany().SetOrdered(true))
		cancel()
		if err != nil {
			return &Error{w.src.display, fmt.Sprintf("insert rows %d-%d", w.rows+lo+1, w.rows+hi), explain(redactErr(err, w.src.uri, w.src.display))}
		}
	}
	w.rows += n
	return nil
}

// appendDoc appends row i as a BSON document: missing values are left out.
func appendDoc(dst []byte, nodes []*node, cols []frame.Column, i int) []byte {
	idx, dst := bsoncore.AppendDocumentStart(dst)
	dst, _ = bsoncore.AppendDocumentEnd(appendFields(dst, nodes, cols, i), idx)
	return dst
}

// appendFields appends row i's fields under nodes: a node without a column
// is a nested document of its children.
func appendFields(dst []byte, nodes []*node, cols []frame.Column, i int) []byte {
	for _, n := range nodes {
		if n.col < 0 {
			sub, d := bsoncore.AppendDocumentElementStart(dst, n.key)
			d = appendFields(d, n.children, cols, i)
			dst, _ = bsoncore.AppendDocumentEnd(d, sub)
			continue
		}
		dst = appendValue(dst, n.key, cols[n.col], i)
	}
	return dst
}

func appendValue(dst []byte, key string, c frame.Column, i int) []byte {
	if c.IsNull(i) {
		return dst
	}
	switch c := c.(type) {
	case *frame.Float:
		v := c.Values[i]
		if math.IsNaN(v) {
			return dst
		}
		return bsoncore.AppendDoubleElement(dst, key, v)
	case *frame.Int:
		return bsoncore.AppendInt64Element(dst, key, c.Values[i])
	case *frame.Bool:
		return bsoncore.AppendBooleanElement(dst, key, c.Values[i])
	case *frame.Categorical:
		return bsoncore.AppendStringElement(dst, key, c.Levels[c.Codes[i]])
	case *frame.String:
		return bsoncore.AppendStringElement(dst, key, c.Values[i])
	case *frame.Time:
		return bsoncore.AppendDateTimeElement(dst, key, c.Values[i]/int64(time.Millisecond))
	}
	return bsoncore.AppendStringElement(dst, key, c.Format(i))
}

// Close implements ingest.Sink: the temporary collection is renamed onto
// the target.
func (w *sink) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	defer w.client.Disconnect(context.Background())
	if w.rows == 0 {
		// Nothing was inserted, so the temporary collection does not exist:
		// create it so the target exists (empty) after Close.
		if err := w.client.Database(w.src.db).CreateCollection(ctx, w.tmpName); err != nil {
			return &Error{w.src.display, "create collection", explain(err)}
		}
	}
	cmd := bson.D{
		{Key: "renameCollection", Value: w.src.db + "." + w.tmpName},
		{Key: "to", Value: w.src.db + "." + w.src.coll},
		{Key: "dropTarget", Value: w.src.replace},
	}
	err := w.client.Database("admin").RunCommand(ctx, cmd).Err()
	if err != nil && w.src.replace && strings.Contains(err.Error(), "dropTarget") {
		// Servers without dropTarget (FerretDB 1.x): drop, then rename.
		// Readers may see no collection for that moment.
		if derr := w.client.Database(w.src.db).Collection(w.src.coll).Drop(ctx); derr == nil {
			cmd[2].Value = false
			err = w.client.Database("admin").RunCommand(ctx, cmd).Err()
		}
	}
	if err != nil {
		w.tmp.Drop(context.Background())
		return &Error{w.src.display, "rename the written collection into place", explain(err)}
	}
	return nil
}

// Abort implements ingest.Sink: the temporary collection is dropped.
func (w *sink) Abort() {
	if w.done {
		return
	}
	w.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w.tmp.Drop(ctx)
	w.client.Disconnect(ctx)
}

var (
	_ ingest.Source      = Source{}
	_ ingest.Destination = Source{}
	_ ingest.Sink        = (*sink)(nil)
)

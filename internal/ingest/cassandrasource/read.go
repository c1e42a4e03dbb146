package cassandrasource

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gocql/gocql"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func init() { ingest.RegisterScheme("cassandra", Source{}) }

// Source reads cassandra:// URLs; it is registered with package ingest for
// the scheme cassandra.
type Source struct{}

// Error is a failure to reach or use the cluster (down, refused
// credentials, a missing keyspace or table, a query the server refused):
// an input error, exit code 2.
type Error struct {
	// Source is the URL with credentials removed.
	Source string
	// Op is what was being done ("connect", "read schema", ...).
	Op  string
	Err error
}

// Error renders "cassandra SOURCE: op: cause".
func (e *Error) Error() string { return fmt.Sprintf("cassandra %s: %s: %v", e.Source, e.Op, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// InputError marks the error as the input's fault (exit code 2 in the CLI).
func (e *Error) InputError() bool { return true }

// connectTimeout bounds reaching a node: a cluster that is down fails in
// this long.
const connectTimeout = 10 * time.Second

// connect opens a session on the cluster.
func (s *source) connect() (*gocql.Session, error) {
	cl := gocql.NewCluster(s.hosts...)
	cl.ProtoVersion = 4
	cl.Consistency = s.consistency
	cl.ConnectTimeout = connectTimeout
	cl.Timeout = s.timeout
	cl.Logger = log.New(io.Discard, "", 0)
	cl.RetryPolicy = &gocql.ExponentialBackoffRetryPolicy{NumRetries: 3, Min: 200 * time.Millisecond, Max: 5 * time.Second}
	if s.dc != "" {
		cl.PoolConfig.HostSelectionPolicy = gocql.DCAwareRoundRobinPolicy(s.dc)
	}
	if s.hasPass {
		cl.Authenticator = gocql.PasswordAuthenticator{Username: s.user, Password: s.password}
	}
	if s.tls {
		cl.SslOpts = &gocql.SslOptions{Config: &tls.Config{MinVersion: tls.VersionTLS12}, EnableHostVerification: true}
	}
	sess, err := cl.CreateSession()
	if err != nil {
		return nil, &Error{s.display, "connect", s.explain(err)}
	}
	return sess, nil
}

// explain rewords the driver's errors by their cause, with any password
// removed.
func (s *source) explain(err error) error {
	m := err.Error()
	if s.hasPass && s.password != "" && strings.Contains(m, s.password) {
		err = errors.New(strings.ReplaceAll(m, s.password, "xxxxx"))
		m = err.Error()
	}
	var re gocql.RequestError
	if errors.As(err, &re) && re.Code() == gocql.ErrCodeCredentials || strings.Contains(m, "Provided username") || strings.Contains(m, "authentication") {
		return fmt.Errorf("the cluster refused the credentials: check the user and the password (password-env= or password-file=): %w", err)
	}
	if strings.Contains(m, "connection refused") {
		return fmt.Errorf("no node is listening at %s (connection refused); is Cassandra running there? (%w)", strings.Join(s.hosts, ", "), err)
	}
	if strings.Contains(m, "i/o timeout") || strings.Contains(m, "no response to connection startup") {
		return fmt.Errorf("no node at %s answered within %s: %w", strings.Join(s.hosts, ", "), connectTimeout, err)
	}
	return err
}

// tableInfo is what the schema tables say about the table to read.
type tableInfo struct {
	cols        []column // every column: partition key, clustering, then the rest by name
	partitionKs []string
	clusteringK []string
}

// ident quotes a CQL identifier.
func ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// readSchema reads the table's columns from system_schema, and explains a
// missing keyspace or table by what the cluster has.
func (s *source) readSchema(ctx context.Context, sess *gocql.Session) (*tableInfo, error) {
	type row struct {
		name, kind, typ string
		pos             int
	}
	load := func(ks, table string) ([]row, error) {
		it := sess.Query(`SELECT column_name, kind, position, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?`, ks, table).WithContext(ctx).Iter()
		var rows []row
		var r row
		for it.Scan(&r.name, &r.kind, &r.pos, &r.typ) {
			rows = append(rows, r)
		}
		return rows, it.Close()
	}
	rows, err := load(s.keyspace, s.table)
	if err == nil && len(rows) == 0 && (s.keyspace != strings.ToLower(s.keyspace) || s.table != strings.ToLower(s.table)) {
		// Unquoted CQL names are lower case: table=Users means users.
		if rows, err = load(strings.ToLower(s.keyspace), strings.ToLower(s.table)); err == nil && len(rows) > 0 {
			s.keyspace, s.table = strings.ToLower(s.keyspace), strings.ToLower(s.table)
		}
	}
	if err != nil {
		return nil, &Error{s.display, "read the table's schema", s.explain(err)}
	}
	if len(rows) == 0 {
		return nil, &Error{s.display, "read the table's schema", s.missing(ctx, sess)}
	}
	info := &tableInfo{}
	sort.SliceStable(rows, func(a, b int) bool {
		rank := func(k string) int {
			switch k {
			case "partition_key":
				return 0
			case "clustering":
				return 1
			case "static":
				return 2
			}
			return 3
		}
		ra, rb := rank(rows[a].kind), rank(rows[b].kind)
		if ra != rb {
			return ra < rb
		}
		if ra < 2 {
			return rows[a].pos < rows[b].pos
		}
		return rows[a].name < rows[b].name
	})
	for _, r := range rows {
		c := column{name: r.name, cql: r.typ}
		switch r.kind {
		case "partition_key":
			info.partitionKs = append(info.partitionKs, r.name)
			c.key = true
		case "clustering":
			info.clusteringK = append(info.clusteringK, r.name)
			c.key = true
		}
		k, asJSON, err := kindOf(r.typ)
		if err != nil {
			c.kind = frame.KindInvalid
			c.cql = r.typ + ": " + err.Error()
		} else {
			c.kind, c.json = k, asJSON
		}
		info.cols = append(info.cols, c)
	}
	return info, nil
}

// missing explains an empty schema: no such keyspace, or no such table in
// it, naming what there is.
func (s *source) missing(ctx context.Context, sess *gocql.Session) error {
	list := func(stmt string, args ...any) ([]string, error) {
		it := sess.Query(stmt, args...).WithContext(ctx).Iter()
		var out []string
		var n string
		for it.Scan(&n) {
			out = append(out, n)
		}
		sort.Strings(out)
		return out, it.Close()
	}
	tables, err := list(`SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?`, s.keyspace)
	if err != nil {
		return s.explain(err)
	}
	if len(tables) > 0 {
		return fmt.Errorf("no table %q in keyspace %q (it has %s)", s.table, s.keyspace, names(tables))
	}
	kss, err := list(`SELECT keyspace_name FROM system_schema.keyspaces`)
	if err != nil {
		return s.explain(err)
	}
	for _, k := range kss {
		if k == s.keyspace {
			return fmt.Errorf("no table %q in keyspace %q (it has no tables)", s.table, s.keyspace)
		}
	}
	var user []string
	for _, k := range kss {
		if !strings.HasPrefix(k, "system") {
			user = append(user, k)
		}
	}
	if len(user) == 0 {
		return fmt.Errorf("no keyspace %q (the cluster has only its system keyspaces)", s.keyspace)
	}
	return fmt.Errorf("no keyspace %q (the cluster has %s)", s.keyspace, names(user))
}

func names(ns []string) string {
	if len(ns) > 20 {
		ns = append(ns[:20:20], "...")
	}
	return strings.Join(ns, ", ")
}

// tokenRange is (lo, hi] on the ring; both nil for a scan without token
// bounds.
type tokenRange struct{ lo, hi any }

// ranges cuts the partitioner's token ring into n contiguous ranges in
// token order. Murmur3 tokens are 64-bit (Long.MIN_VALUE never a key's
// token), RandomPartitioner's 0 to 2^127; an order-preserving partitioner
// is read in one scan.
func ranges(partitioner string, n int) []tokenRange {
	switch {
	case n <= 1:
	case strings.HasSuffix(partitioner, "Murmur3Partitioner"):
		out := make([]tokenRange, n)
		step := new(big.Int).Div(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(int64(n)))
		at := big.NewInt(math.MinInt64)
		for i := range out {
			next := new(big.Int).Add(at, step)
			hi := next.Int64()
			if i == n-1 {
				hi = math.MaxInt64
			}
			out[i] = tokenRange{at.Int64(), hi}
			at = next
		}
		return out
	case strings.HasSuffix(partitioner, "RandomPartitioner"):
		out := make([]tokenRange, n)
		top := new(big.Int).Lsh(big.NewInt(1), 127)
		step := new(big.Int).Div(new(big.Int).Add(top, big.NewInt(1)), big.NewInt(int64(n)))
		at := big.NewInt(-1)
		for i := range out {
			next := new(big.Int).Add(at, step)
			if i == n-1 {
				next = top
			}
			out[i] = tokenRange{new(big.Int).Set(at), new(big.Int).Set(next)}
			at = next
		}
		return out
	}
	return []tokenRange{{}}
}

// mentions reports whether a CQL WHERE clause names one of the columns
// (outside string literals), case-insensitively for unquoted names.
func mentions(where string, cols []string) bool {
	var words []string
	for i := 0; i < len(where); {
		c := where[i]
		switch {
		case c == '\'':
			j := i + 1
			for j < len(where) {
				if where[j] == '\'' {
					if j+1 < len(where) && where[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j + 1
		case c == '"':
			j := strings.IndexByte(where[i+1:], '"')
			if j < 0 {
				return false
			}
			words = append(words, where[i+1:i+1+j])
			i += j + 2
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(where) && (where[j] == '_' || where[j] >= 'a' && where[j] <= 'z' || where[j] >= 'A' && where[j] <= 'Z' || where[j] >= '0' && where[j] <= '9') {
				j++
			}
			words = append(words, strings.ToLower(where[i:j]))
			i = j
		default:
			i++
		}
	}
	for _, w := range words {
		for _, c := range cols {
			if w == c {
				return true
			}
		}
	}
	return false
}

// statement builds the SELECT for one token range (ranged) or a whole
// scan.
func (s *source) statement(cols []column, pk []string, ranged bool) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for j, c := range cols {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ident(c.name))
	}
	b.WriteString(" FROM ")
	b.WriteString(ident(s.keyspace) + "." + ident(s.table))
	var conds []string
	if ranged {
		q := make([]string, len(pk))
		for i, k := range pk {
			q[i] = ident(k)
		}
		tok := "token(" + strings.Join(q, ", ") + ")"
		conds = append(conds, tok+" > ?", tok+" <= ?")
	}
	if s.where != "" {
		conds = append(conds, s.where)
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(conds, " AND "))
	}
	if s.allowFiltering {
		b.WriteString(" ALLOW FILTERING")
	}
	return b.String()
}

// plan picks the columns to read: every readable column, or those of
// &columns= (else Options.Columns), with the primary key always read so
// errors can name the row. keep marks the columns the frame returns.
func (s *source) plan(info *tableInfo, opt ingest.Options) (cols []column, keep []bool, err error) {
	want := s.columns
	explicit := want != nil
	if want == nil && opt.Columns != nil {
		want = opt.Columns
	}
	byName := map[string]int{}
	for j, c := range info.cols {
		byName[c.name] = j
	}
	chosen := map[string]bool{}
	for _, w := range want {
		if _, ok := byName[w]; !ok {
			if explicit {
				all := make([]string, len(info.cols))
				for j, c := range info.cols {
					all[j] = c.name
				}
				return nil, nil, fmt.Errorf("columns=: table %s.%s has no column %q (it has %s)", s.keyspace, s.table, w, names(all))
			}
			// Options.Columns naming a column the table lacks: package
			// ingest reports it; read everything.
			want, chosen = nil, map[string]bool{}
			break
		}
		chosen[w] = true
	}
	for _, c := range info.cols {
		if want != nil && !chosen[c.name] && !c.key {
			continue
		}
		if c.kind == frame.KindInvalid {
			var ok []string
			for _, o := range info.cols {
				if o.kind != frame.KindInvalid {
					ok = append(ok, o.name)
				}
			}
			return nil, nil, fmt.Errorf("table %s.%s, column %q is %s; leave it out with &columns=%s", s.keyspace, s.table, c.name, c.cql, strings.Join(ok, ","))
		}
		cols = append(cols, c)
		keep = append(keep, want == nil || chosen[c.name] || !explicit)
	}
	return cols, keep, nil
}

// Read implements ingest.Source: every row of the table (or of where=) as
// one frame, read in token ranges in parallel and put in token order.
func (Source) Read(ctx context.Context, raw string, opt ingest.Options) (*frame.Frame, error) {
	var out *frame.Frame
	err := scan(ctx, raw, opt, 0, func(c *ingest.Chunk) error { out = c.Frame; return nil })
	return out, err
}

// Stream implements ingest.Source: chunks of about chunkRows rows in
// token order, a bounded number of token ranges read ahead.
func (Source) Stream(ctx context.Context, raw string, opt ingest.Options, chunkRows int, fn func(*ingest.Chunk) error) error {
	if chunkRows <= 0 {
		chunkRows = ingest.DefaultChunkRows
	}
	return scan(ctx, raw, opt, chunkRows, fn)
}

// rangeOut carries one token range's batches, in order, to the consumer.
type rangeOut struct {
	ch  chan *batch
	err error // set before ch is closed
}

// scan reads the table and feeds fn batches of chunkRows rows (one batch of
// every row when chunkRows is 0).
func scan(ctx context.Context, raw string, opt ingest.Options, chunkRows int, fn func(*ingest.Chunk) error) error {
	s, err := parseURL(raw)
	if err != nil {
		return err
	}
	sess, err := s.connect()
	if err != nil {
		return err
	}
	defer sess.Close()
	info, err := s.readSchema(ctx, sess)
	if err != nil {
		return err
	}
	cols, keep, err := s.plan(info, opt)
	if err != nil {
		return &Error{s.display, "plan the read", err}
	}
	kinds, err := declared(cols, opt)
	if err != nil {
		return &Error{s.display, "plan the read", err}
	}

	splits := s.splits
	if s.where != "" && mentions(s.where, lower(info.partitionKs)) {
		// A partition key restricted by where= cannot be token-bounded too.
		if s.splitsSet && splits > 1 && opt.Warn != nil {
			opt.Warn(fmt.Sprintf("cassandra %s: where= restricts the partition key, so the read is one query (splits= ignored)", s.display))
		}
		splits = 1
	}
	var partitioner string
	if splits > 1 {
		it := sess.Query(`SELECT partitioner FROM system.local WHERE key = 'local'`).WithContext(ctx).Iter()
		it.Scan(&partitioner)
		if err := it.Close(); err != nil {
			return &Error{s.display, "read the partitioner", s.explain(err)}
		}
	}
	rs := ranges(partitioner, splits)
	stmt := s.statement(cols, info.partitionKs, rs[0].lo != nil)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	outs := make([]*rangeOut, len(rs))
	for i := range outs {
		outs[i] = &rangeOut{ch: make(chan *batch, 1)}
	}
	parallel := min(s.parallel, len(rs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, r := range rs {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, o := range outs[i:] {
					o.err = ctx.Err()
					close(o.ch)
				}
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				o := outs[i]
				o.err = s.readRange(ctx, sess, stmt, r, cols, chunkRows, o.ch)
				close(o.ch)
			}()
		}
	}()

	var (
		shape []frame.Kind
		whole *batch
		row   int
	)
	emit := func(b *batch) error {
		if shape == nil {
			shape = textKinds(cols, b, catMax(opt))
			for j, k := range kinds {
				if k != frame.KindInvalid {
					shape[j] = k
				}
			}
		}
		f, err := frameOf(cols, shape, b)
		if err != nil {
			return fmt.Errorf("read %s: %w", s.display, err)
		}
		f, err = dropExtra(f, cols, keep, s.columns)
		if err != nil {
			return fmt.Errorf("read %s: %w", s.display, err)
		}
		first := row
		row += b.rows
		return fn(&ingest.Chunk{Frame: f, Row: first, Done: int64(row)})
	}
	for _, o := range outs {
		for b := range o.ch {
			if chunkRows == 0 {
				whole = appendBatch(whole, b)
				continue
			}
			if err := emit(b); err != nil {
				cancel()
				return err
			}
		}
		if o.err != nil {
			cancel()
			return o.err
		}
	}
	if chunkRows == 0 || row == 0 {
		if whole == nil {
			whole = newBatch(cols)
		}
		return emit(whole)
	}
	return nil
}

func lower(ns []string) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strings.ToLower(n)
	}
	return out
}

func catMax(opt ingest.Options) int {
	if opt.CategoricalMax > 0 {
		return opt.CategoricalMax
	}
	return ingest.DefaultCategoricalMax
}

// declared returns the kinds Options.Schema declares for the columns
// (KindInvalid where it says nothing), refusing a change the values cannot
// make: text may be categorical or free text, an integer column may be
// read as floats, any column as text.
func declared(cols []column, opt ingest.Options) ([]frame.Kind, error) {
	out := make([]frame.Kind, len(cols))
	for j, c := range cols {
		o, ok := opt.Schema[c.name]
		if !ok || o.Type == frame.KindInvalid || o.Type == c.kind {
			continue
		}
		switch {
		case c.kind == frame.KindString && o.Type == frame.KindCategorical,
			c.kind == frame.KindInt && o.Type == frame.KindFloat:
			out[j] = o.Type
		default:
			return nil, fmt.Errorf("the schema declares column %q %s, but its CQL type %s reads as %s", c.name, o.Type, c.cql, c.kind)
		}
	}
	return out, nil
}

// appendBatch appends b's rows to acc (nil: b itself).
func appendBatch(acc, b *batch) *batch {
	if acc == nil {
		return b
	}
	for j, c := range acc.cols {
		d := b.cols[j]
		c.i = append(c.i, d.i...)
		c.f = append(c.f, d.f...)
		c.b = append(c.b, d.b...)
		c.s = append(c.s, d.s...)
		for _, r := range d.miss {
			c.miss = append(c.miss, acc.rows+r)
		}
	}
	acc.rows += b.rows
	return acc
}

// dropExtra removes the primary-key columns read only to name rows in
// errors, and puts the columns of &columns= in its order.
func dropExtra(f *frame.Frame, cols []column, keep []bool, order []string) (*frame.Frame, error) {
	if order != nil {
		return f.Select(order...)
	}
	all := true
	for _, k := range keep {
		all = all && k
	}
	if all {
		return f, nil
	}
	var names []string
	for j, c := range cols {
		if keep[j] {
			names = append(names, c.name)
		}
	}
	return f.Select(names...)
}

// readRange runs the statement over one token range, page by page,
// sending batches of chunkRows rows (one batch when chunkRows is 0).
func (s *source) readRange(ctx context.Context, sess *gocql.Session, stmt string, r tokenRange, cols []column, chunkRows int, out chan<- *batch) error {
	var args []any
	where := "the table"
	if r.lo != nil {
		args = []any{r.lo, r.hi}
		where = fmt.Sprintf("token range (%v, %v]", r.lo, r.hi)
	}
	q := sess.Query(stmt, args...).WithContext(ctx).PageSize(s.page).Idempotent(true)
	it := q.Iter()
	rs := &rowScan{src: s, cols: cols, b: newBatch(cols), keys: make([][]byte, len(cols)), infos: make([]gocql.TypeInfo, len(cols))}
	dest := make([]any, len(cols))
	for j := range cols {
		dest[j] = &cell{rs: rs, j: j}
	}
	send := func() error {
		select {
		case out <- rs.b:
		case <-ctx.Done():
			return ctx.Err()
		}
		rs.b = newBatch(cols)
		return nil
	}
	for {
		start := rs.b.rows
		if !it.Scan(dest...) {
			break
		}
		if rs.err != nil {
			break
		}
		rs.b.rows = start + 1
		if chunkRows > 0 && rs.b.rows >= chunkRows {
			if err := send(); err != nil {
				it.Close()
				return err
			}
		}
	}
	err := it.Close()
	if rs.err != nil {
		return rs.err
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &Error{s.display, "read " + where, s.explain(err)}
	}
	if rs.b.rows > 0 || chunkRows == 0 {
		return send()
	}
	return nil
}

// rowScan decodes one row's cells into a batch.
type rowScan struct {
	src   *source
	cols  []column
	b     *batch
	keys  [][]byte // the current row's primary key values, for messages
	infos []gocql.TypeInfo
	err   error
}

// cell receives one column's value from the driver, undecoded.
type cell struct {
	rs *rowScan
	j  int
}

// UnmarshalCQL implements gocql.Unmarshaler: the value's bytes go
// straight into the batch's typed column.
func (c *cell) UnmarshalCQL(info gocql.TypeInfo, data []byte) error {
	rs := c.rs
	col := &rs.cols[c.j]
	if col.key {
		rs.keys[c.j] = append(rs.keys[c.j][:0], data...)
		if data == nil {
			rs.keys[c.j] = nil
		}
		rs.infos[c.j] = info
	}
	if err := rs.b.decode(c.j, col, info, data); err != nil {
		rs.b.truncate(rs.b.rows, rs.cols)
		var key []string
		for k, kc := range rs.cols {
			if kc.key && k < c.j {
				key = append(key, kc.name+"="+keyText(rs.infos[k], rs.keys[k]))
			}
		}
		rs.err = &ingest.ParseError{Source: "cassandra " + rs.src.display, Column: col.name,
			Err: fmt.Errorf("%w: table %s.%s, row with primary key (%s): %v (column type %s)", ingest.ErrType, rs.src.keyspace, rs.src.table, strings.Join(key, ", "), err, col.cql)}
		return rs.err
	}
	return nil
}

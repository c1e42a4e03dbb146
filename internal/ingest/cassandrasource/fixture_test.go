package cassandrasource

// A CQL native protocol v4 fixture server for the tests: it speaks the
// frames of Cassandra's doc/native_protocol_v4.spec (OPTIONS/SUPPORTED,
// STARTUP/READY or AUTHENTICATE, AUTH_RESPONSE/AUTH_SUCCESS or ERROR,
// REGISTER/READY, QUERY, PREPARE/RESULT Prepared, EXECUTE/RESULT Rows with
// paging_state and Has_more_pages, ERROR frames with the codes of section
// 9), built by hand from that document, not recorded from a Cassandra
// server (none can run here). It answers only the statements listed in
// answer, the ones the driver and cassandrasource send, over in-memory
// tables; any other statement gets the Invalid error a server would give
// an unknown table. Every request is kept in a transcript the tests
// assert on (the driver's query building and paging).

import (
	"bufio"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Opcodes (spec section 2.4).
const (
	opError        = 0x00
	opStartup      = 0x01
	opReady        = 0x02
	opAuthenticate = 0x03
	opOptions      = 0x05
	opSupported    = 0x06
	opQuery        = 0x07
	opResult       = 0x08
	opPrepare      = 0x09
	opExecute      = 0x0A
	opRegister     = 0x0B
	opAuthResponse = 0x0F
	opAuthSuccess  = 0x10
)

// Error codes (spec section 9).
const (
	errProtocol    = 0x000A
	errCredentials = 0x0100
	errSyntax      = 0x2000
	errInvalid     = 0x2200
)

// cqlType is a type [option] (spec section 4.2.5.2).
type cqlType struct {
	id   uint16
	subs []cqlType
}

var (
	tAscii     = cqlType{id: 0x01}
	tBigint    = cqlType{id: 0x02}
	tBlob      = cqlType{id: 0x03}
	tBoolean   = cqlType{id: 0x04}
	tDecimal   = cqlType{id: 0x06}
	tDouble    = cqlType{id: 0x07}
	tFloat     = cqlType{id: 0x08}
	tInt       = cqlType{id: 0x09}
	tTimestamp = cqlType{id: 0x0B}
	tUUID      = cqlType{id: 0x0C}
	tVarchar   = cqlType{id: 0x0D}
	tVarint    = cqlType{id: 0x0E}
	tInet      = cqlType{id: 0x10}
	tDate      = cqlType{id: 0x11}
	tSmallint  = cqlType{id: 0x13}
)

func tList(e cqlType) cqlType   { return cqlType{id: 0x20, subs: []cqlType{e}} }
func tMap(k, v cqlType) cqlType { return cqlType{id: 0x21, subs: []cqlType{k, v}} }
func tSet(e cqlType) cqlType    { return cqlType{id: 0x22, subs: []cqlType{e}} }

// fixCol is a column of a fixture table; text is its type as
// system_schema.columns writes it.
type fixCol struct {
	name string
	typ  cqlType
	text string
	kind string // partition_key, clustering, regular
	pos  int
}

// fixTable is a table with rows of already serialised values (nil: null).
type fixTable struct {
	ks, name string
	cols     []fixCol
	rows     [][][]byte
}

// fixServer is the fixture server.
type fixServer struct {
	t           testing.TB
	ln          net.Listener
	tables      []*fixTable
	keyspaces   []string
	user, pass  string // when set, PasswordAuthenticator is required
	partitioner string

	mu       sync.Mutex
	prepared map[string]string
	log      []request
}

// request is one request of the transcript.
type request struct {
	op          byte
	query       string
	values      [][]byte
	pageSize    int32
	pagingState []byte
	consistency uint16
}

func newFixServer(t testing.TB, tables ...*fixTable) *fixServer {
	return newAuthFixServer(t, "", "", tables...)
}

// newAuthFixServer starts a fixture server that requires
// PasswordAuthenticator credentials (none when user is "").
func newAuthFixServer(t testing.TB, user, pass string, tables ...*fixTable) *fixServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fixServer{t: t, ln: ln, tables: tables, user: user, pass: pass, partitioner: "org.apache.cassandra.dht.Murmur3Partitioner",
		keyspaces: []string{"system", "system_auth", "system_schema", "system_distributed", "system_traces"}, prepared: map[string]string{}}
	seen := map[string]bool{}
	for _, tb := range tables {
		if !seen[tb.ks] {
			seen[tb.ks] = true
			s.keyspaces = append(s.keyspaces, tb.ks)
		}
	}
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *fixServer) addr() string { return s.ln.Addr().String() }

// requests returns the transcript's requests of one opcode.
func (s *fixServer) requests(op byte) []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []request
	for _, r := range s.log {
		if r.op == op {
			out = append(out, r)
		}
	}
	return out
}

func (s *fixServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.conn(c)
	}
}

// conn serves one connection: frames in, frames out, in order.
func (s *fixServer) conn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	var wmu sync.Mutex
	authed := s.user == ""
	for {
		var h [9]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return
		}
		version, stream, op := h[0], binary.BigEndian.Uint16(h[2:4]), h[4]
		body := make([]byte, binary.BigEndian.Uint32(h[5:9]))
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var rop byte
		var resp []byte
		if version != 0x04 {
			rop, resp = opError, errBody(errProtocol, fmt.Sprintf("Invalid or unsupported protocol version (%d); supported versions are (3/v3, 4/v4)", version&0x7f))
		} else {
			rop, resp = s.handle(op, body, &authed)
		}
		out := make([]byte, 9, 9+len(resp))
		out[0] = 0x84
		binary.BigEndian.PutUint16(out[2:4], stream)
		out[4] = rop
		binary.BigEndian.PutUint32(out[5:9], uint32(len(resp)))
		out = append(out, resp...)
		wmu.Lock()
		_, err := c.Write(out)
		wmu.Unlock()
		if err != nil {
			return
		}
	}
}

// handle answers one request frame.
func (s *fixServer) handle(op byte, body []byte, authed *bool) (byte, []byte) {
	rd := &reader{b: body}
	switch op {
	case opOptions:
		var w writer
		w.stringMultimap(map[string][]string{"CQL_VERSION": {"3.4.4"}, "COMPRESSION": {"snappy", "lz4"}, "PROTOCOL_VERSIONS": {"3/v3", "4/v4", "5/v5-beta"}})
		return opSupported, w.b
	case opStartup:
		opts := rd.stringMap()
		if opts["CQL_VERSION"] == "" {
			return opError, errBody(errProtocol, "Missing value CQL_VERSION in STARTUP message")
		}
		if s.user != "" {
			var w writer
			w.string("org.apache.cassandra.auth.PasswordAuthenticator")
			return opAuthenticate, w.b
		}
		return opReady, nil
	case opAuthResponse:
		tok := rd.bytes()
		parts := strings.Split(string(tok), "\x00")
		if len(parts) == 3 && parts[1] == s.user && parts[2] == s.pass {
			*authed = true
			var w writer
			w.bytes(nil)
			return opAuthSuccess, w.b
		}
		user := ""
		if len(parts) == 3 {
			user = parts[1]
		}
		return opError, errBody(errCredentials, fmt.Sprintf("Provided username %s and/or password are incorrect", user))
	case opRegister:
		rd.stringList()
		return opReady, nil
	}
	if !*authed {
		return opError, errBody(errProtocol, "Unexpected message, expecting SASL response")
	}
	switch op {
	case opPrepare:
		q := rd.longString()
		s.record(request{op: op, query: q})
		st, err := parse(q)
		if err != nil {
			return opError, errBody(errSyntax, err.Error())
		}
		binds, result, e := s.shape(st)
		if e != nil {
			return opError, e
		}
		id := md5.Sum([]byte(q))
		s.mu.Lock()
		s.prepared[string(id[:])] = q
		s.mu.Unlock()
		var w writer
		w.shortBytes(id[:])
		w.int(int32(flagsFor(binds)))
		w.int(int32(len(binds)))
		w.int(0) // pk_count
		writeSpecs(&w, st, binds)
		w.int(int32(flagsFor(result)))
		w.int(int32(len(result)))
		writeSpecs(&w, st, result)
		return opResult, append(intBytes(0x0004), w.b...)
	case opQuery, opExecute:
		var q string
		if op == opQuery {
			q = rd.longString()
		} else {
			id := rd.shortBytes()
			s.mu.Lock()
			var ok bool
			q, ok = s.prepared[string(id)]
			s.mu.Unlock()
			if !ok {
				var w writer
				w.int(0x2500)
				w.string("Prepared query with ID " + fmt.Sprintf("%x", id) + " not found")
				w.shortBytes(id)
				return opError, w.b
			}
		}
		req := request{op: op, query: q}
		req.consistency = rd.short()
		flags := rd.byte()
		if flags&0x01 != 0 {
			n := int(rd.short())
			for range n {
				req.values = append(req.values, rd.bytes())
			}
		}
		req.pageSize = -1
		if flags&0x04 != 0 {
			req.pageSize = rd.int()
		}
		if flags&0x08 != 0 {
			req.pagingState = rd.bytes()
		}
		s.record(req)
		st, err := parse(q)
		if err != nil {
			return opError, errBody(errSyntax, err.Error())
		}
		return s.rows(st, req, flags&0x02 != 0)
	}
	return opError, errBody(errProtocol, fmt.Sprintf("unexpected opcode 0x%02x", op))
}

func (s *fixServer) record(r request) {
	s.mu.Lock()
	s.log = append(s.log, r)
	s.mu.Unlock()
}

// stmt is a parsed SELECT of the forms the fixture answers.
type stmt struct {
	cols      []string // nil: *
	ks, table string
	token     bool     // token(pk) > ? AND token(pk) <= ?
	binds     []string // other bind markers: column = ?
	eq        map[string]string
	filtering bool
}

var selectRE = regexp.MustCompile(`^SELECT (.+?) FROM ("?[\w]+"?)\.("?[\w]+"?)(?: WHERE (.+?))?( ALLOW FILTERING)?$`)

// parse reads the SELECTs this fixture knows; anything else is a syntax
// error.
func parse(q string) (*stmt, error) {
	m := selectRE.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		return nil, fmt.Errorf("line 1:0 no viable alternative at input '%s'", strings.Fields(q + " x")[0])
	}
	unq := func(s string) string { return strings.Trim(strings.TrimSpace(s), `"`) }
	st := &stmt{ks: unq(m[2]), table: unq(m[3]), eq: map[string]string{}, filtering: m[5] != ""}
	if m[1] != "*" {
		for _, c := range strings.Split(m[1], ",") {
			st.cols = append(st.cols, unq(c))
		}
	}
	if m[4] != "" {
		for _, cond := range strings.Split(m[4], " AND ") {
			cond = strings.TrimSpace(cond)
			switch {
			case strings.HasPrefix(cond, "token("):
				st.token = true
			case strings.HasSuffix(cond, "= ?"):
				st.binds = append(st.binds, unq(strings.TrimSuffix(cond, "= ?")))
			default:
				k, v, ok := strings.Cut(cond, "=")
				if !ok {
					return nil, fmt.Errorf("line 1:%d mismatched input '%s'", len(q), cond)
				}
				st.eq[unq(k)] = strings.Trim(strings.TrimSpace(v), "'")
			}
		}
	}
	return st, nil
}

// table returns the in-memory table a statement reads, including the
// system tables the driver and cassandrasource query.
func (s *fixServer) table(st *stmt) *fixTable {
	switch st.ks + "." + st.table {
	case "system.local":
		return &fixTable{ks: "system", name: "local", cols: []fixCol{
			{name: "key", typ: tVarchar}, {name: "bootstrapped", typ: tVarchar}, {name: "broadcast_address", typ: tInet},
			{name: "cluster_name", typ: tVarchar}, {name: "cql_version", typ: tVarchar}, {name: "data_center", typ: tVarchar},
			{name: "host_id", typ: tUUID}, {name: "listen_address", typ: tInet}, {name: "partitioner", typ: tVarchar},
			{name: "rack", typ: tVarchar}, {name: "release_version", typ: tVarchar}, {name: "rpc_address", typ: tInet},
			{name: "schema_version", typ: tUUID}, {name: "tokens", typ: tSet(tVarchar)}},
			rows: [][][]byte{{[]byte("local"), []byte("COMPLETED"), {127, 0, 0, 1}, []byte("Fixture Cluster"), []byte("3.4.4"),
				[]byte("datacenter1"), uuidBytes(1), {127, 0, 0, 1}, []byte(s.partitioner), []byte("rack1"), []byte("3.11.16"),
				{127, 0, 0, 1}, uuidBytes(2), encList([][]byte{[]byte("-9223372036854775807")})}}}
	case "system.peers":
		return &fixTable{ks: "system", name: "peers", cols: []fixCol{{name: "peer", typ: tInet}, {name: "data_center", typ: tVarchar},
			{name: "host_id", typ: tUUID}, {name: "rack", typ: tVarchar}, {name: "release_version", typ: tVarchar},
			{name: "rpc_address", typ: tInet}, {name: "schema_version", typ: tUUID}, {name: "tokens", typ: tSet(tVarchar)}}}
	case "system_schema.keyspaces":
		t := &fixTable{ks: "system_schema", name: "keyspaces", cols: []fixCol{{name: "keyspace_name", typ: tVarchar, kind: "partition_key"}}}
		for _, k := range s.keyspaces {
			t.rows = append(t.rows, [][]byte{[]byte(k)})
		}
		return t
	case "system_schema.tables":
		t := &fixTable{ks: "system_schema", name: "tables", cols: []fixCol{{name: "keyspace_name", typ: tVarchar, kind: "partition_key"}, {name: "table_name", typ: tVarchar, kind: "clustering"}}}
		for _, tb := range s.tables {
			t.rows = append(t.rows, [][]byte{[]byte(tb.ks), []byte(tb.name)})
		}
		return t
	case "system_schema.columns":
		t := &fixTable{ks: "system_schema", name: "columns", cols: []fixCol{{name: "keyspace_name", typ: tVarchar, kind: "partition_key"},
			{name: "table_name", typ: tVarchar, kind: "clustering"}, {name: "column_name", typ: tVarchar, kind: "clustering"},
			{name: "kind", typ: tVarchar}, {name: "position", typ: tInt}, {name: "type", typ: tVarchar}}}
		for _, tb := range s.tables {
			// system_schema.columns is clustered by column name.
			cols := append([]fixCol(nil), tb.cols...)
			sort.Slice(cols, func(a, b int) bool { return cols[a].name < cols[b].name })
			for _, c := range cols {
				pos := int32(-1)
				if c.kind != "regular" {
					pos = int32(c.pos)
				}
				t.rows = append(t.rows, [][]byte{[]byte(tb.ks), []byte(tb.name), []byte(c.name), []byte(c.kind), intBytes(pos), []byte(c.text)})
			}
		}
		return t
	}
	for _, tb := range s.tables {
		if tb.ks == st.ks && tb.name == st.table {
			return tb
		}
	}
	return nil
}

// shape checks a statement against its table and returns its bind markers
// and result columns, or an ERROR body as the server would send.
func (s *fixServer) shape(st *stmt) (binds, result []fixCol, e []byte) {
	if st.ks == "system" && st.table == "peers_v2" {
		return nil, nil, errBody(errInvalid, "unconfigured table peers_v2")
	}
	ksKnown := false
	for _, k := range s.keyspaces {
		ksKnown = ksKnown || k == st.ks
	}
	if !ksKnown {
		return nil, nil, errBody(errInvalid, "Keyspace "+st.ks+" does not exist")
	}
	tb := s.table(st)
	if tb == nil {
		return nil, nil, errBody(errInvalid, "unconfigured table "+st.table)
	}
	col := func(n string) (fixCol, bool) {
		for _, c := range tb.cols {
			if c.name == n {
				return c, true
			}
		}
		return fixCol{}, false
	}
	if st.token {
		binds = append(binds, fixCol{name: "partition key token", typ: tBigint}, fixCol{name: "partition key token", typ: tBigint})
	}
	for _, b := range st.binds {
		c, ok := col(b)
		if !ok {
			return nil, nil, errBody(errInvalid, "Undefined column name "+b)
		}
		binds = append(binds, c)
	}
	for n := range st.eq {
		c, ok := col(n)
		if !ok {
			return nil, nil, errBody(errInvalid, "Undefined column name "+n)
		}
		if c.kind == "regular" && !st.filtering {
			return nil, nil, errBody(errInvalid, "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING")
		}
	}
	if st.cols == nil {
		return binds, tb.cols, nil
	}
	for _, n := range st.cols {
		c, ok := col(n)
		if !ok {
			return nil, nil, errBody(errInvalid, "Undefined column name "+n)
		}
		result = append(result, c)
	}
	return binds, result, nil
}

// rows answers a SELECT: the matching rows in token order, one page of
// pageSize rows from the paging state on.
func (s *fixServer) rows(st *stmt, req request, skipMeta bool) (byte, []byte) {
	binds, result, e := s.shape(st)
	if e != nil {
		return opError, e
	}
	if len(req.values) != len(binds) {
		return opError, errBody(errInvalid, fmt.Sprintf("There were %d markers(?) in CQL but %d bound variables", len(binds), len(req.values)))
	}
	tb := s.table(st)
	idx := map[string]int{}
	var pk []int
	for j, c := range tb.cols {
		idx[c.name] = j
		if c.kind == "partition_key" {
			pk = append(pk, j)
		}
	}
	type hit struct {
		tok int64
		n   int
	}
	var hits []hit
	vi := 0
	var lo, hi int64 = math.MinInt64, math.MaxInt64
	if st.token {
		lo, hi = int64(binary.BigEndian.Uint64(req.values[0])), int64(binary.BigEndian.Uint64(req.values[1]))
		vi = 2
	}
rowLoop:
	for n, r := range tb.rows {
		for k, b := range st.binds {
			if string(r[idx[b]]) != string(req.values[vi+k]) {
				continue rowLoop
			}
		}
		for c, v := range st.eq {
			if !textEquals(tb.cols[idx[c]].typ, r[idx[c]], v) {
				continue rowLoop
			}
		}
		tok := token(r, pk)
		if st.token && (tok <= lo || tok > hi) {
			continue
		}
		hits = append(hits, hit{tok, n})
	}
	if len(pk) > 0 && !strings.HasPrefix(st.ks, "system") {
		sort.SliceStable(hits, func(a, b int) bool { return hits[a].tok < hits[b].tok })
	}
	start := 0
	if len(req.pagingState) > 0 {
		// This fixture's paging state: "fix" and the next row's position.
		if len(req.pagingState) != 11 || string(req.pagingState[:3]) != "fix" {
			return opError, errBody(errProtocol, "Invalid value for the paging state")
		}
		start = int(binary.BigEndian.Uint64(req.pagingState[3:]))
	}
	end := len(hits)
	var state []byte
	if req.pageSize > 0 && start+int(req.pageSize) < len(hits) {
		end = start + int(req.pageSize)
		state = append([]byte("fix"), make([]byte, 8)...)
		binary.BigEndian.PutUint64(state[3:], uint64(end))
	}
	var w writer
	w.int(0x0002)
	flags := flagsFor(result)
	if state != nil {
		flags |= 0x0002
	}
	if skipMeta {
		flags = flags&^0x0001 | 0x0004
	}
	w.int(int32(flags))
	w.int(int32(len(result)))
	if state != nil {
		w.bytes(state)
	}
	if !skipMeta {
		writeSpecs(&w, st, result)
	}
	w.int(int32(end - start))
	for _, h := range hits[start:end] {
		r := tb.rows[h.n]
		for _, c := range result {
			w.bytes(r[idx[c.name]])
		}
	}
	return opResult, w.b
}

func flagsFor(cols []fixCol) int {
	if len(cols) > 0 {
		return 0x0001 // Global_tables_spec
	}
	return 0
}

func writeSpecs(w *writer, st *stmt, cols []fixCol) {
	if len(cols) == 0 {
		return
	}
	w.string(st.ks)
	w.string(st.table)
	for _, c := range cols {
		w.string(c.name)
		w.option(c.typ)
	}
}

func textEquals(t cqlType, v []byte, lit string) bool {
	switch t.id {
	case tInt.id:
		n, err := strconv.Atoi(lit)
		return err == nil && len(v) == 4 && int32(binary.BigEndian.Uint32(v)) == int32(n)
	case tBigint.id:
		n, err := strconv.ParseInt(lit, 10, 64)
		return err == nil && len(v) == 8 && int64(binary.BigEndian.Uint64(v)) == n
	}
	return string(v) == lit
}

// token is the row's Murmur3Partitioner token: the first 64 bits of
// Cassandra's MurmurHash3 x64 128 of the partition key (one column: its
// value; several: each as a short length, the value and a 0 byte), with
// Long.MIN_VALUE mapped to Long.MAX_VALUE.
func token(row [][]byte, pk []int) int64 {
	var key []byte
	if len(pk) == 1 {
		key = row[pk[0]]
	} else {
		for _, j := range pk {
			key = binary.BigEndian.AppendUint16(key, uint16(len(row[j])))
			key = append(key, row[j]...)
			key = append(key, 0)
		}
	}
	h := murmur3H1(key)
	if h == math.MinInt64 {
		return math.MaxInt64
	}
	return h
}

// murmur3H1 is Cassandra's MurmurHash.hash3_x64_128(key, 0)[0], tail bytes
// sign-extended as Java's byte is signed.
func murmur3H1(data []byte) int64 {
	const c1, c2 = 0x87c37b91114253d5, 0x4cf5ad432745937f
	var h1, h2 uint64
	n := len(data)
	nblocks := n / 16
	for i := range nblocks {
		k1 := binary.LittleEndian.Uint64(data[i*16:])
		k2 := binary.LittleEndian.Uint64(data[i*16+8:])
		k1 *= c1
		k1 = k1<<31 | k1>>33
		k1 *= c2
		h1 ^= k1
		h1 = h1<<27 | h1>>37
		h1 += h2
		h1 = h1*5 + 0x52dce729
		k2 *= c2
		k2 = k2<<33 | k2>>31
		k2 *= c1
		h2 ^= k2
		h2 = h2<<31 | h2>>33
		h2 += h1
		h2 = h2*5 + 0x38495ab5
	}
	tail := data[nblocks*16:]
	sx := func(i int) uint64 { return uint64(int64(int8(tail[i]))) }
	var k1, k2 uint64
	switch len(tail) & 15 {
	case 15:
		k2 ^= sx(14) << 48
		fallthrough
	case 14:
		k2 ^= sx(13) << 40
		fallthrough
	case 13:
		k2 ^= sx(12) << 32
		fallthrough
	case 12:
		k2 ^= sx(11) << 24
		fallthrough
	case 11:
		k2 ^= sx(10) << 16
		fallthrough
	case 10:
		k2 ^= sx(9) << 8
		fallthrough
	case 9:
		k2 ^= sx(8)
		k2 *= c2
		k2 = k2<<33 | k2>>31
		k2 *= c1
		h2 ^= k2
		fallthrough
	case 8:
		k1 ^= sx(7) << 56
		fallthrough
	case 7:
		k1 ^= sx(6) << 48
		fallthrough
	case 6:
		k1 ^= sx(5) << 40
		fallthrough
	case 5:
		k1 ^= sx(4) << 32
		fallthrough
	case 4:
		k1 ^= sx(3) << 24
		fallthrough
	case 3:
		k1 ^= sx(2) << 16
		fallthrough
	case 2:
		k1 ^= sx(1) << 8
		fallthrough
	case 1:
		k1 ^= sx(0)
		k1 *= c1
		k1 = k1<<31 | k1>>33
		k1 *= c2
		h1 ^= k1
	}
	h1 ^= uint64(n)
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	fmix := func(k uint64) uint64 {
		k ^= k >> 33
		k *= 0xff51afd7ed558ccd
		k ^= k >> 33
		k *= 0xc4ceb9fe1a85ec53
		k ^= k >> 33
		return k
	}
	h1 = fmix(h1)
	h2 = fmix(h2)
	h1 += h2
	return int64(h1)
}

// Notations of spec section 3, written and read.

type writer struct{ b []byte }

func (w *writer) int(v int32)    { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)) }
func (w *writer) short(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) string(s string) {
	w.short(uint16(len(s)))
	w.b = append(w.b, s...)
}
func (w *writer) bytes(b []byte) {
	if b == nil {
		w.int(-1)
		return
	}
	w.int(int32(len(b)))
	w.b = append(w.b, b...)
}
func (w *writer) shortBytes(b []byte) {
	w.short(uint16(len(b)))
	w.b = append(w.b, b...)
}
func (w *writer) option(t cqlType) {
	w.short(t.id)
	for _, s := range t.subs {
		w.option(s)
	}
}
func (w *writer) stringMultimap(m map[string][]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.short(uint16(len(keys)))
	for _, k := range keys {
		w.string(k)
		w.short(uint16(len(m[k])))
		for _, v := range m[k] {
			w.string(v)
		}
	}
}

func errBody(code int32, msg string) []byte {
	var w writer
	w.int(code)
	w.string(msg)
	return w.b
}

func intBytes(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.err = errors.New("short frame")
		r.b = nil
		return make([]byte, max(n, 0))
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}
func (r *reader) byte() byte         { return r.take(1)[0] }
func (r *reader) short() uint16      { return binary.BigEndian.Uint16(r.take(2)) }
func (r *reader) int() int32         { return int32(binary.BigEndian.Uint32(r.take(4))) }
func (r *reader) string() string     { return string(r.take(int(r.short()))) }
func (r *reader) longString() string { return string(r.take(int(r.int()))) }
func (r *reader) shortBytes() []byte { return r.take(int(r.short())) }
func (r *reader) bytes() []byte {
	n := r.int()
	if n < 0 {
		return nil
	}
	return append([]byte(nil), r.take(int(n))...)
}
func (r *reader) stringList() []string {
	n := int(r.short())
	out := make([]string, n)
	for i := range out {
		out[i] = r.string()
	}
	return out
}
func (r *reader) stringMap() map[string]string {
	n := int(r.short())
	out := map[string]string{}
	for range n {
		k := r.string()
		out[k] = r.string()
	}
	return out
}

// Value serialisation (spec section 6).

func encInt(v int32) []byte      { return intBytes(v) }
func encBigint(v int64) []byte   { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
func encSmallint(v int16) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func encDouble(v float64) []byte { return binary.BigEndian.AppendUint64(nil, math.Float64bits(v)) }
func encFloat(v float32) []byte  { return binary.BigEndian.AppendUint32(nil, math.Float32bits(v)) }
func encBool(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}
func encTimestamp(ms int64) []byte { return encBigint(ms) }
func encDate(days int64) []byte    { return binary.BigEndian.AppendUint32(nil, uint32(days+1<<31)) }

// encVarint is the shortest two's-complement big-endian form.
func encVarint(v *big.Int) []byte {
	if v.Sign() >= 0 {
		b := v.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	n := len(v.Bytes()) + 1
	m := new(big.Int).Add(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	b := m.FillBytes(make([]byte, n))
	for len(b) > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
		b = b[1:]
	}
	return b
}

func encDecimal(unscaled int64, scale int32) []byte {
	return append(intBytes(scale), encVarint(big.NewInt(unscaled))...)
}

// encList serialises a list or set: [int] n, then n [bytes].
func encList(elems [][]byte) []byte {
	var w writer
	w.int(int32(len(elems)))
	for _, e := range elems {
		w.bytes(e)
	}
	return w.b
}

// encMap serialises a map: [int] n, then n key and value [bytes].
func encMap(kv ...[]byte) []byte {
	var w writer
	w.int(int32(len(kv) / 2))
	for _, e := range kv {
		w.bytes(e)
	}
	return w.b
}

func uuidBytes(n byte) []byte {
	u := []byte{0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, n}
	return u
}

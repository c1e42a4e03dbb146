package kafkasource

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/ingest/docframe"
)

func init() { ingest.RegisterScheme("kafka", Source{}) }

// Source reads and writes kafka:// URLs; it is registered with package
// ingest for the scheme kafka.
type Source struct{}

// DefaultSample is how many messages decide the field types when neither
// &sample= nor Options.InferRows says.
const DefaultSample = 10000

// Error is a failure to reach or use the brokers (down, refused
// credentials, a topic that does not exist): an input error, exit code 2.
type Error struct {
	// Source is the URL with credentials removed.
	Source string
	// Op is what was being done ("connect", "fetch", ...).
	Op  string
	Err error
}

// Error renders "kafka SOURCE: op: cause".
func (e *Error) Error() string { return fmt.Sprintf("kafka %s: %s: %v", e.Source, e.Op, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// InputError marks the error as the input's fault (exit code 2 in the CLI).
func (e *Error) InputError() bool { return true }

// connectTimeout bounds reaching the brokers.
const connectTimeout = 10 * time.Second

// Follows implements ingest.Follower: a topic read with no bound
// (max-records=, last=, until=, follow=false) is followed until
// Options.Stop.
func (Source) Follows(raw string) bool {
	s, err := parseURL(raw, false)
	return err == nil && s.follow
}

// Read implements ingest.Source: the topic's messages up to its end when
// the read starts (or the URL's bound), as one frame. With a group it
// starts from the group's committed offsets but commits nothing.
func (Source) Read(ctx context.Context, raw string, opt ingest.Options) (*frame.Frame, error) {
	s, err := parseURL(raw, false)
	if err != nil {
		return nil, err
	}
	s.follow, s.readOnly = false, true
	var out *frame.Frame
	err = s.scan(ctx, opt, 0, func(c *ingest.Chunk) error { out = c.Frame; return nil })
	return out, err
}

// Stream implements ingest.Source: chunks of at most chunkRows messages,
// each delivered as soon as a fetch returns (so a followed topic is scored
// with low latency); with a group, each chunk's Commit commits its offsets.
func (Source) Stream(ctx context.Context, raw string, opt ingest.Options, chunkRows int, fn func(*ingest.Chunk) error) error {
	s, err := parseURL(raw, false)
	if err != nil {
		return err
	}
	return s.scan(ctx, opt, chunkRows, fn)
}

// admin opens a client for metadata and checks the brokers answer, the
// credentials are accepted and the topic exists.
func (s *source) connect(ctx context.Context, extra ...kgo.Opt) (*kgo.Client, error) {
	opts := append([]kgo.Opt{kgo.SeedBrokers(s.brokers...), kgo.DialTimeout(connectTimeout / 2), kgo.RequestRetries(2)}, s.opts...)
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, &Error{s.display, "connect", err}
	}
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	td, err := kadm.NewClient(cl).ListTopics(cctx)
	if err == nil {
		err = td.Error()
	}
	if err != nil {
		cl.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if s.user != "" && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			// A broker may close the connection on refused credentials
			// instead of answering (kfake does).
			err = fmt.Errorf("the broker closed the connection while authenticating user %q: it may have refused the credentials: check the user and the password (password-env= or password-file=): %w", s.user, err)
			return nil, &Error{s.display, "connect", err}
		}
		return nil, &Error{s.display, "connect", explain(err)}
	}
	if !td.Has(s.topic) {
		cl.Close()
		have := "it has none"
		if names := td.Names(); len(names) > 0 {
			if len(names) > 20 {
				names = append(names[:20], "...")
			}
			have = "it has " + strings.Join(names, ", ")
		}
		return nil, &Error{s.display, "find topic", fmt.Errorf("no topic %q on the cluster (%s)", s.topic, have)}
	}
	return cl, nil
}

// explain words the client's connection errors.
func explain(err error) error {
	m := err.Error()
	switch {
	case strings.Contains(m, "connection refused"):
		return fmt.Errorf("no broker is listening (connection refused); is Kafka running at this address? (%w)", err)
	case strings.Contains(m, "SASL") || strings.Contains(m, "sasl") || strings.Contains(m, "authentication"):
		return fmt.Errorf("the broker refused the credentials: check the user and the password (password-env= or password-file=): %w", err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no broker answered within %s: %w", connectTimeout, err)
	}
	return err
}

// bounds are where a bounded read starts and stops, per partition.
type bounds struct {
	end     map[int32]int64 // the first offset not to read
	pending int             // partitions not yet read to their end
}

// planBounds lists where each partition starts (the group's commit, else
// from=) and ends (its end when the read starts), and the offsets to
// consume from.
func (s *source) planBounds(ctx context.Context, cl *kgo.Client) (*bounds, map[int32]kgo.Offset, error) {
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, s.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, nil, &Error{s.display, "list end offsets", explain(err)}
	}
	starts, err := adm.ListStartOffsets(ctx, s.topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, nil, &Error{s.display, "list start offsets", explain(err)}
	}
	var committed kadm.OffsetResponses
	if s.group != "" {
		if committed, err = adm.FetchOffsets(ctx, s.group); err != nil {
			return nil, nil, &Error{s.display, "fetch the group's offsets", explain(err)}
		}
	}
	b := &bounds{end: map[int32]int64{}}
	from := map[int32]kgo.Offset{}
	parts := int64(len(ends[s.topic]))
	ends.Each(func(o kadm.ListedOffset) {
		start := starts[o.Topic][o.Partition].Offset
		if s.fromLatest {
			start = o.Offset
		}
		if c, ok := committed.Lookup(o.Topic, o.Partition); ok && c.Err == nil && c.At >= 0 {
			start = c.At
		}
		if s.last > 0 {
			// A sliding window: each partition's newest share of last=.
			start = max(starts[o.Topic][o.Partition].Offset, o.Offset-(s.last+parts-1)/parts)
		}
		from[o.Partition] = kgo.NewOffset().At(start)
		b.end[o.Partition] = o.Offset
		if start < o.Offset {
			b.pending++
		}
	})
	return b, from, nil
}

// scan consumes the topic into chunks; chunkRows 0 means one chunk.
func (s *source) scan(ctx context.Context, opt ingest.Options, chunkRows int, fn func(*ingest.Chunk) error) error {
	cl, err := s.connect(ctx)
	if err != nil {
		return err
	}
	var b *bounds
	var from map[int32]kgo.Offset
	if !s.follow {
		if b, from, err = s.planBounds(ctx, cl); err != nil {
			cl.Close()
			return err
		}
	}
	cl.Close()
	consume := []kgo.Opt{kgo.FetchMaxWait(100 * time.Millisecond), kgo.ProducerLinger(0)}
	switch {
	case s.group != "":
		consume = append(consume, kgo.ConsumerGroup(s.group), kgo.ConsumeTopics(s.topic), kgo.DisableAutoCommit())
		if s.fromLatest {
			consume = append(consume, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		} else {
			consume = append(consume, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		}
	case from != nil:
		consume = append(consume, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: from}))
	default:
		consume = append(consume, kgo.ConsumeTopics(s.topic))
		if s.fromLatest {
			consume = append(consume, kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
		} else {
			consume = append(consume, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		}
	}
	if cl, err = s.connect(ctx, consume...); err != nil {
		return err
	}
	r := newReader(s, cl, opt, b, chunkRows)
	defer cl.Close()
	err = r.run(ctx, opt.Stop, fn)
	r.waitCommits(ctx)
	return err
}

// reader turns fetched records into chunks.
type reader struct {
	src       *source
	cl        *kgo.Client
	b         *docframe.Builder
	bounds    *bounds
	chunkRows int
	sample    int
	warn      func(string)

	msgs, first int   // messages decoded so far; first of the current chunk
	records     int64 // records consumed (decoded or skipped)
	skipped     int   // in the current chunk
	dlq         int   // produced to the dead-letter topic, not yet flushed
	last        map[int32]*kgo.Record
	done        bool
	fields      [][]byte // csv: field names as bytes
	chunks      int
	emitted     int          // chunks delivered with a Commit
	committed   atomic.Int64 // of those, committed (or failed)
}

func newReader(s *source, cl *kgo.Client, opt ingest.Options, b *bounds, chunkRows int) *reader {
	r := &reader{src: s, cl: cl, bounds: b, chunkRows: chunkRows, warn: opt.Warn, last: map[int32]*kgo.Record{}}
	r.sample = s.sample
	if r.sample == 0 {
		r.sample = opt.InferRows
	}
	if r.sample <= 0 {
		r.sample = DefaultSample
	}
	if chunkRows > 0 && r.sample > chunkRows {
		r.sample = chunkRows
	}
	r.b = docframe.New(opt.CategoricalMax)
	declared := 0
	for name, o := range opt.Schema {
		if o.Type != frame.KindInvalid {
			r.b.Declare(name, o.Type)
			declared++
		}
	}
	// Scoring: every column the model reads is declared, so the columns
	// are known from the start and other fields are not read at all.
	if len(opt.Columns) > 0 && declared > 0 {
		all := true
		for _, c := range opt.Columns {
			if o, ok := opt.Schema[c]; !ok || o.Type == frame.KindInvalid {
				all = false
			}
		}
		if all {
			r.b.Fix()
		}
	}
	if !r.b.Fixed() && opt.Warn != nil {
		r.b.Skipped = func(field string) {
			opt.Warn(fmt.Sprintf("kafka %s: field %q first appears after the %d messages that fixed the columns; it is skipped (raise &sample=)", s.display, field, r.sample))
		}
	}
	for _, c := range s.columns {
		r.fields = append(r.fields, []byte(c))
	}
	return r
}

// run polls until the bound, the end of ctx or stop.
func (r *reader) run(ctx context.Context, stop <-chan struct{}, fn func(*ingest.Chunk) error) error {
	if r.bounds != nil && r.bounds.pending == 0 {
		return r.emit(fn, true)
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if stop != nil && r.src.follow {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-pctx.Done():
			}
		}()
	}
	for !r.done {
		max := 1 << 16
		if r.chunkRows > 0 {
			max = r.chunkRows - r.b.Rows()
		}
		fs := r.cl.PollRecords(pctx, max)
		if pctx.Err() != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			break // stopped: deliver what was read
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if ferr == nil && !errors.Is(err, context.Canceled) {
				ferr = &Error{r.src.display, fmt.Sprintf("fetch partition %d", p), explain(err)}
			}
		})
		if ferr != nil {
			return ferr
		}
		it := fs.RecordIter()
		for !it.Done() && !r.done {
			if err := r.record(ctx, it.Next()); err != nil {
				return err
			}
		}
		full := r.chunkRows > 0 && r.b.Rows() >= r.chunkRows
		if full || (r.chunkRows > 0 && r.src.follow && r.b.Rows() > 0) {
			if err := r.emit(fn, false); err != nil {
				return err
			}
		}
	}
	return r.emit(fn, true)
}

// record decodes one record, or skips it past the bound.
func (r *reader) record(ctx context.Context, rec *kgo.Record) error {
	if r.bounds != nil {
		end, ok := r.bounds.end[rec.Partition]
		if !ok || rec.Offset >= end {
			return nil
		}
		past := !r.src.until.IsZero() && !rec.Timestamp.Before(r.src.until)
		if rec.Offset == end-1 || past {
			// The partition's last record to read (or the first past
			// until=): the partition is done.
			delete(r.bounds.end, rec.Partition)
			r.bounds.pending--
			defer func() { r.done = r.done || r.bounds.pending <= 0 }()
		}
		if past {
			return nil
		}
	} else if !r.src.until.IsZero() && !rec.Timestamp.Before(r.src.until) {
		return nil
	}
	r.records++
	r.last[rec.Partition] = rec
	if err := r.decode(ctx, rec.Value); err != nil {
		var fe *fatalError
		if errors.As(err, &fe) {
			return fe
		}
		return r.poison(ctx, rec, err)
	}
	r.msgs++
	if r.msgs == r.sample {
		r.b.Fix()
	}
	if r.src.maxRecords > 0 && r.records >= r.src.maxRecords {
		r.done = true
	}
	return nil
}

// decode adds one message to the builder (dropping it on error).
func (r *reader) decode(ctx context.Context, v []byte) error {
	switch r.src.format {
	case "json":
		return r.b.AddJSON(v, r.src.explode)
	case "avro":
		return r.src.avro.decode(ctx, v, r.b)
	}
	rd := csv.NewReader(bytes.NewReader(v))
	rec, err := rd.Read()
	if err != nil {
		return fmt.Errorf("not a CSV record: %w", err)
	}
	if len(rec) != len(r.fields) {
		return fmt.Errorf("%w: %d fields, &columns= names %d", ingest.ErrFieldCount, len(rec), len(r.fields))
	}
	r.b.StartRow()
	for j, val := range rec {
		if err := r.csvValue(r.fields[j], val); err != nil {
			r.b.DropRow()
			return err
		}
	}
	return nil
}

// csvValue records a CSV field: numbers and booleans by their text unless
// the column is text.
func (r *reader) csvValue(name []byte, v string) error {
	if v == "" {
		r.b.Null(name)
		return nil
	}
	switch r.b.Kind(string(name)) {
	case frame.KindString, frame.KindCategorical:
		return r.b.String(name, []byte(v))
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return r.b.Int(name, i)
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return r.b.Float(name, f)
	}
	if bv, err := strconv.ParseBool(v); err == nil {
		return r.b.Bool(name, bv)
	}
	return r.b.String(name, []byte(v))
}

// poison handles a message that cannot be read, by the URL's bad= policy.
func (r *reader) poison(ctx context.Context, rec *kgo.Record, cause error) error {
	where := fmt.Sprintf("partition %d offset %d", rec.Partition, rec.Offset)
	var te *docframe.TypeError
	column := ""
	if errors.As(cause, &te) {
		column = te.Column
		cause = fmt.Errorf("%w: message at %s: %v", ingest.ErrType, where, cause)
	} else {
		cause = fmt.Errorf("message at %s: %w", where, cause)
	}
	switch r.src.bad {
	case badSkip:
		r.skipped++
		return nil
	case badDLQ:
		dl := &kgo.Record{Topic: r.src.deadLetter, Key: rec.Key, Value: rec.Value, Headers: append(append([]kgo.RecordHeader(nil), rec.Headers...),
			kgo.RecordHeader{Key: "gyre-error", Value: []byte(cause.Error())},
			kgo.RecordHeader{Key: "gyre-source", Value: []byte(fmt.Sprintf("%s/%d/%d", rec.Topic, rec.Partition, rec.Offset))})}
		r.cl.Produce(ctx, dl, nil)
		r.dlq++
		r.skipped++
		return nil
	}
	return &ingest.ParseError{Source: r.src.display, Row: int(r.records), Column: column,
		Err: fmt.Errorf("%w (skip such messages with &bad=skip, or send them to a topic with &bad=dead-letter)", cause)}
}

// emit delivers the rows decoded so far as a chunk.
func (r *reader) emit(fn func(*ingest.Chunk) error, final bool) error {
	if r.b.Rows() == 0 && r.skipped == 0 && !(final && r.chunks == 0) {
		return nil
	}
	if r.dlq > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := r.cl.Flush(ctx)
		cancel()
		if err != nil {
			return &Error{r.src.display, "write to the dead-letter topic " + r.src.deadLetter, err}
		}
		r.dlq = 0
	}
	r.b.Fix()
	f, err := r.b.Frame()
	if err != nil {
		return fmt.Errorf("read %s: %w", r.src.display, err)
	}
	c := &ingest.Chunk{Frame: f, Row: r.first, Done: r.records, Skipped: r.skipped}
	if r.src.group != "" && !r.src.readOnly && len(r.last) > 0 {
		recs := make([]*kgo.Record, 0, len(r.last))
		for _, rec := range r.last {
			recs = append(recs, rec)
		}
		c.Commit = func(ctx context.Context) error {
			defer r.committed.Add(1)
			if err := r.cl.CommitRecords(ctx, recs...); err != nil {
				return &Error{r.src.display, "commit offsets", err}
			}
			return nil
		}
		r.emitted++
	}
	r.chunks++
	r.last = map[int32]*kgo.Record{}
	r.first = r.msgs
	r.skipped = 0
	r.b = r.b.Like()
	return fn(c)
}

// waitCommits waits, before the client closes, for the chunks delivered
// with a Commit to be committed (the consumer commits after writing their
// output, which may be after fn returned), until ctx ends or a minute.
func (r *reader) waitCommits(ctx context.Context) {
	deadline := time.Now().Add(time.Minute)
	for r.committed.Load() < int64(r.emitted) && ctx.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

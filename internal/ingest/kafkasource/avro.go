package kafkasource

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/gyre-ml/gyre/internal/ingest/avro"
	"github.com/gyre-ml/gyre/internal/ingest/docframe"
)

// This file reads Avro message values (format=avro): with &schema=FILE
// (or FILE,FILE,... for several versions of a schema) a message is either
// in Avro's single-object encoding (0xC3 0x01, the writer schema's
// CRC-64-AVRO fingerprint, the datum), decoded with the schema given whose
// fingerprint it carries, or a bare Avro datum of the one schema given;
// with &registry=URL
// messages are in the Confluent wire format (a 0 byte, the schema id as a
// big-endian uint32, the datum) and schemas come from the schema
// registry's REST API (GET /schemas/ids/ID, references resolved through
// /subjects/SUBJECT/versions/VERSION), cached by id.

// fatalError is an error that stops the read whatever the bad= policy: the
// schema registry cannot be reached or refuses us.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// avroSource decodes Avro values for one kafka:// source.
type avroSource struct {
	display string
	fixed   *avro.Schema            // the schema of bare datums (one schema given)
	byFP    map[uint64]*avro.Schema // the schemas given, by fingerprint
	files   map[uint64]string       // and the files they came from
	reg     *schemaRegistry         // nil without &registry=
	mu      sync.Mutex
	byID    map[uint32]*avro.Schema
}

func newAvroSource(display, schemaFile, registry, user, passEnv string) (*avroSource, error) {
	a := &avroSource{display: display, byID: map[uint32]*avro.Schema{}}
	switch {
	case schemaFile != "" && registry != "":
		return nil, fmt.Errorf("kafka %s: give &schema=FILE (bare Avro messages) or &registry=URL (the Confluent wire format), not both", display)
	case schemaFile != "":
		a.byFP, a.files = map[uint64]*avro.Schema{}, map[uint64]string{}
		files := strings.Split(schemaFile, ",")
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("kafka %s: schema=: %w", display, err)
			}
			s, err := avro.Parse(b)
			if err != nil {
				return nil, fmt.Errorf("kafka %s: schema %s: %w", display, file, err)
			}
			fp := s.Fingerprint()
			if prev, dup := a.files[fp]; dup {
				return nil, fmt.Errorf("kafka %s: schema=: %s and %s are the same schema (fingerprint %016x)", display, prev, file, fp)
			}
			a.byFP[fp], a.files[fp] = s, file
			if len(files) == 1 {
				a.fixed = s
			}
		}
	case registry != "":
		reg, err := newSchemaRegistry(display, registry, user, passEnv)
		if err != nil {
			return nil, err
		}
		a.reg = reg
	default:
		return nil, fmt.Errorf("kafka %s: format=avro needs &schema=FILE (bare Avro messages) or &registry=URL (Confluent schema registry)", display)
	}
	return a, nil
}

// decode adds the message v to b.
func (a *avroSource) decode(ctx context.Context, v []byte, b *docframe.Builder) error {
	if a.byFP != nil {
		fp, datum, single := avro.SingleObject(v)
		if single {
			if s, ok := a.byFP[fp]; ok {
				return s.DecodeOne(datum, b)
			}
		}
		if a.fixed == nil {
			if single {
				return fmt.Errorf("single-object encoded with schema fingerprint %016x, which matches none of the schemas given (%s)", fp, a.given())
			}
			return fmt.Errorf("not in Avro's single-object encoding (0xC3 0x01 and a schema fingerprint): with several schemas given, a bare datum's schema is unknown")
		}
		// A bare datum (that may start with the marker by chance).
		err := a.fixed.DecodeOne(v, b)
		if err != nil && single {
			return fmt.Errorf("single-object encoded with schema fingerprint %016x, which matches none of the schemas given (%s), and not a bare datum of %s either: %w", fp, a.given(), a.files[a.fixed.Fingerprint()], err)
		}
		return err
	}
	s, datum, err := a.schemaFor(ctx, v)
	if err != nil {
		return err
	}
	return s.DecodeOne(datum, b)
}

// given lists the schema files with their fingerprints.
func (a *avroSource) given() string {
	var parts []string
	for _, fp := range slices.Sorted(maps.Keys(a.files)) {
		parts = append(parts, fmt.Sprintf("%s: %016x", a.files[fp], fp))
	}
	return strings.Join(parts, ", ")
}

// schemaFor returns the schema of a message in the Confluent wire format
// and the datum.
func (a *avroSource) schemaFor(ctx context.Context, v []byte) (*avro.Schema, []byte, error) {
	if fp, _, ok := avro.SingleObject(v); ok {
		return nil, nil, fmt.Errorf("in Avro's single-object encoding (schema fingerprint %016x), not the Confluent wire format: give its schema with &schema=FILE instead of &registry=", fp)
	}
	if len(v) < 5 || v[0] != 0 {
		return nil, nil, errors.New("not in the Confluent wire format (a 0 byte and a 4-byte schema id before the Avro data)")
	}
	id := binary.BigEndian.Uint32(v[1:5])
	a.mu.Lock()
	s, ok := a.byID[id]
	a.mu.Unlock()
	if ok {
		return s, v[5:], nil
	}
	s, err := a.fetch(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	a.mu.Lock()
	a.byID[id] = s
	a.mu.Unlock()
	return s, v[5:], nil
}

// registryAnswer is the registry's schema document.
type registryAnswer struct {
	Schema     string `json:"schema"`
	SchemaType string `json:"schemaType"`
	References []struct {
		Name    string `json:"name"`
		Subject string `json:"subject"`
		Version int    `json:"version"`
	} `json:"references"`
	registryError
}

func (a *avroSource) get(ctx context.Context, path string) (*registryAnswer, int, error) {
	var ans registryAnswer
	code, err := a.reg.call(ctx, path, nil, 16<<20, &ans, &ans.registryError)
	return &ans, code, err
}

// fetch reads schema id from the registry, its references first.
func (a *avroSource) fetch(ctx context.Context, id uint32) (*avro.Schema, error) {
	where := fmt.Sprintf("schema registry %s: schema id %d", a.reg.base, id)
	ans, code, err := a.get(ctx, fmt.Sprintf("/schemas/ids/%d", id))
	if err != nil {
		if code == http.StatusNotFound {
			return nil, fmt.Errorf("%s: %w", where, err) // this message's problem
		}
		return nil, &fatalError{fmt.Errorf("kafka %s: %s: %w", a.display, where, err)}
	}
	if ans.SchemaType != "" && ans.SchemaType != "AVRO" {
		return nil, fmt.Errorf("%s is a %s schema, not Avro (format=avro)", where, ans.SchemaType)
	}
	var names avro.Names
	for _, ref := range ans.References {
		r, _, err := a.get(ctx, fmt.Sprintf("/subjects/%s/versions/%d", url.PathEscape(ref.Subject), ref.Version))
		if err != nil {
			return nil, &fatalError{fmt.Errorf("kafka %s: %s: reference %s (subject %s version %d): %w", a.display, where, ref.Name, ref.Subject, ref.Version, err)}
		}
		if _, err := names.Parse([]byte(r.Schema)); err != nil {
			return nil, fmt.Errorf("%s: reference %s: %w", where, ref.Name, err)
		}
	}
	s, err := names.Parse([]byte(ans.Schema))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return s, nil
}

package kafkasource

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/avro"
)

// This file writes Avro message values (--out kafka://B/T?format=avro).
// The writer schema is derived from the output's columns (avro.SchemaFor:
// a record gyre.Row, a nullable field per column). With &registry=URL it
// is registered under the subject TOPIC-value (POST
// /subjects/SUBJECT/versions) and each value is in the Confluent wire
// format (a 0 byte, the schema id, the datum); with &schema=FILE each
// value is in Avro's single-object encoding (0xC3 0x01, the schema's
// fingerprint, the datum) and the schema is written to FILE, or checked
// against it when FILE exists, so consumers (and Gyre's reader, with the
// same &schema=FILE) can decode the topic.

// avroSink encodes rows for one kafka:// destination.
type avroSink struct {
	display    string
	subject    string
	schemaFile string
	reg        *schemaRegistry // nil without &registry=
	w          *avro.DatumWriter
	id         uint32 // the registry's schema id
}

func newAvroSink(display, topic, schemaFile, registry, user, passEnv string) (*avroSink, error) {
	a := &avroSink{display: display, subject: topic + "-value"}
	switch {
	case schemaFile != "" && registry != "":
		return nil, fmt.Errorf("kafka %s: give &schema=FILE (single-object encoded values, the schema written to FILE) or &registry=URL (the Confluent wire format), not both", display)
	case schemaFile != "":
		if strings.Contains(schemaFile, ",") {
			return nil, fmt.Errorf("kafka %s: schema=: writing takes one file, where the output's schema goes", display)
		}
		a.schemaFile = schemaFile
	case registry != "":
		reg, err := newSchemaRegistry(display, registry, user, passEnv)
		if err != nil {
			return nil, err
		}
		a.reg = reg
	default:
		return nil, fmt.Errorf("kafka %s: writing format=avro needs &registry=URL (the Confluent wire format) or &schema=FILE (single-object encoding; the schema is written to FILE)", display)
	}
	return a, nil
}

// start derives the schema from the first chunk and publishes it: to the
// registry, or to the schema file.
func (a *avroSink) start(ctx context.Context, f *frame.Frame) error {
	w, err := avro.NewDatumWriter(f)
	if err != nil {
		return fmt.Errorf("kafka %s: %w", a.display, err)
	}
	a.w = w
	if a.reg != nil {
		id, err := a.register(ctx)
		if err != nil {
			return &Error{a.display, "register the schema", err}
		}
		a.id = id
		return nil
	}
	if old, err := os.ReadFile(a.schemaFile); err == nil {
		s, err := avro.Parse(old)
		if err != nil {
			return fmt.Errorf("kafka %s: schema %s: %w", a.display, a.schemaFile, err)
		}
		if s.Fingerprint() != w.Fingerprint() {
			return fmt.Errorf("kafka %s: schema %s (fingerprint %016x) is not the output's schema (fingerprint %016x: %s); name a new file, or remove it to write the output's", a.display, a.schemaFile, s.Fingerprint(), w.Fingerprint(), w.Schema())
		}
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("kafka %s: schema=: %w", a.display, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(a.schemaFile), ".gyre-schema-*")
	if err != nil {
		return fmt.Errorf("kafka %s: schema=: %w", a.display, err)
	}
	defer os.Remove(tmp.Name())
	var pretty bytes.Buffer
	json.Indent(&pretty, w.Schema(), "", "  ")
	pretty.WriteByte('\n')
	if _, err := tmp.Write(pretty.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("kafka %s: schema=: %w", a.display, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("kafka %s: schema=: %w", a.display, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("kafka %s: schema=: %w", a.display, err)
	}
	if err := os.Rename(tmp.Name(), a.schemaFile); err != nil {
		return fmt.Errorf("kafka %s: schema=: %w", a.display, err)
	}
	return nil
}

// register posts the schema under the subject and returns its id (the
// registry returns the existing id for a schema it has).
func (a *avroSink) register(ctx context.Context) (uint32, error) {
	body, _ := json.Marshal(map[string]string{"schema": string(a.w.Schema())})
	where := fmt.Sprintf("schema registry %s, subject %s", a.reg.base, a.subject)
	var ans struct {
		ID int64 `json:"id"`
		registryError
	}
	code, err := a.reg.call(ctx, "/subjects/"+url.PathEscape(a.subject)+"/versions", body, 1<<20, &ans, &ans.registryError)
	if code == http.StatusConflict {
		return 0, fmt.Errorf("%s: %w (the subject's compatibility rules refuse the output's schema)", where, err)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", where, err)
	}
	if ans.ID <= 0 || ans.ID > 1<<31 {
		return 0, fmt.Errorf("%s: the registry answered schema id %d", where, ans.ID)
	}
	return uint32(ans.ID), nil
}

// value encodes row i of f.
func (a *avroSink) value(f *frame.Frame, i int) []byte {
	if a.reg != nil {
		v := binary.BigEndian.AppendUint32([]byte{0}, a.id)
		return a.w.Append(v, f, i)
	}
	return a.w.AppendSingleObject(nil, f, i)
}

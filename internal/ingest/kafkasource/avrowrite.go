package kafkasource

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	registry   string
	user, pass string
	client     *http.Client
	w          *avro.DatumWriter
	id         uint32 // the registry's schema id
}

func newAvroSink(display, topic, schemaFile, registry, user, passEnv string) (*avroSink, error) {
	a := &avroSink{display: display, subject: topic + "-value", client: &http.Client{Timeout: 30 * time.Second}}
	switch {
	case schemaFile != "" && registry != "":
		return nil, fmt.Errorf("kafka %s: give &schema=FILE (single-object encoded values, the schema written to FILE) or &registry=URL (the Confluent wire format), not both", display)
	case schemaFile != "":
		if strings.Contains(schemaFile, ",") {
			return nil, fmt.Errorf("kafka %s: schema=: writing takes one file, where the output's schema goes", display)
		}
		a.schemaFile = schemaFile
	case registry != "":
		u, err := url.Parse(registry)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("kafka %s: registry=%q: want the schema registry's http(s) URL", display, registry)
		}
		if u.User != nil {
			return nil, fmt.Errorf("kafka %s: credentials in the registry URL are refused: give &registry-user=NAME and &registry-password-env=VAR", display)
		}
		a.registry, a.user = strings.TrimRight(registry, "/"), user
		if passEnv != "" {
			p, ok := os.LookupEnv(passEnv)
			if !ok {
				return nil, fmt.Errorf("kafka %s: registry-password-env=%s: the environment variable is not set", display, passEnv)
			}
			a.pass = p
		}
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
	if a.registry != "" {
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
	where := fmt.Sprintf("schema registry %s, subject %s", a.registry, a.subject)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.registry+"/subjects/"+url.PathEscape(a.subject)+"/versions", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/json")
	if a.user != "" {
		req.SetBasicAuth(a.user, a.pass)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", where, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var ans struct {
		ID        int64  `json:"id"`
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		return 0, fmt.Errorf("%s: HTTP %d, not a schema registry answer: %.200s", where, resp.StatusCode, b)
	}
	if resp.StatusCode != http.StatusOK {
		msg := fmt.Sprintf("%s: HTTP %d: error %d: %s", where, resp.StatusCode, ans.ErrorCode, ans.Message)
		if resp.StatusCode == http.StatusConflict {
			msg += " (the subject's compatibility rules refuse the output's schema)"
		}
		return 0, errors.New(msg)
	}
	if ans.ID <= 0 || ans.ID > 1<<31 {
		return 0, fmt.Errorf("%s: the registry answered schema id %d", where, ans.ID)
	}
	return uint32(ans.ID), nil
}

// value encodes row i of f.
func (a *avroSink) value(f *frame.Frame, i int) []byte {
	if a.registry != "" {
		v := binary.BigEndian.AppendUint32([]byte{0}, a.id)
		return a.w.Append(v, f, i)
	}
	return a.w.AppendSingleObject(nil, f, i)
}

package track

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Input is a data set a run used, as MLflow clients describe it: a name
// and digest, where it came from, its schema and profile (JSON text, as the
// client sent them) and input tags such as mlflow.data.context.
type Input struct {
	Name       string            `json:"name"`
	Digest     string            `json:"digest"`
	SourceType string            `json:"source_type,omitempty"`
	Source     string            `json:"source,omitempty"`
	Schema     string            `json:"schema,omitempty"`
	Profile    string            `json:"profile,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// LogInputs records data set inputs of the run. An input with the same
// name and digest as one already logged replaces it.
func (r *Run) LogInputs(ctx context.Context, inputs []Input) error {
	if len(inputs) == 0 {
		return nil
	}
	for _, in := range inputs {
		if in.Name == "" || in.Digest == "" {
			return fmt.Errorf("log inputs for run %s: a data set needs a name and a digest: %w", r.id, ErrInvalid)
		}
	}
	err := r.t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		if err := activeRun(ctx, tx, r.id); err != nil {
			return err
		}
		for _, in := range inputs {
			tags := ""
			if len(in.Tags) > 0 {
				b, err := json.Marshal(in.Tags)
				if err != nil {
					return err
				}
				tags = string(b)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO run_inputs (run_id, name, digest, source_type, source, schema_json, profile, tags_json)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, name, digest) DO UPDATE SET source_type = excluded.source_type,
				source = excluded.source, schema_json = excluded.schema_json, profile = excluded.profile, tags_json = excluded.tags_json`,
				r.id, in.Name, in.Digest, in.SourceType, in.Source, in.Schema, in.Profile, tags); err != nil {
				return err
			}
		}
		summary := make([]Input, len(inputs))
		for i, in := range inputs {
			summary[i] = Input{Name: in.Name, Digest: in.Digest, SourceType: in.SourceType, Source: in.Source, Tags: in.Tags}
		}
		return audit.Record(ctx, tx, "run.inputs.log", "run", r.id, nil, summary)
	})
	if err != nil {
		return fmt.Errorf("log inputs for run %s: %w", r.id, err)
	}
	return nil
}

// loadInputs fills the Inputs of the runs in byID; ph and args select them.
func (t *Tracker) loadInputs(ctx context.Context, ph string, args []any, byID map[string]*RunInfo) error {
	rows, err := t.db.QueryContext(ctx, `SELECT run_id, name, digest, source_type, source, schema_json, profile, tags_json
		FROM run_inputs WHERE run_id IN (`+ph+`) ORDER BY name, digest`, args...)
	if err != nil {
		return fmt.Errorf("load inputs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, tags string
		var in Input
		if err := rows.Scan(&id, &in.Name, &in.Digest, &in.SourceType, &in.Source, &in.Schema, &in.Profile, &tags); err != nil {
			return fmt.Errorf("load inputs: %w", err)
		}
		if tags != "" {
			if err := json.Unmarshal([]byte(tags), &in.Tags); err != nil {
				return fmt.Errorf("load inputs of run %s: tags: %w", id, err)
			}
		}
		if ri := byID[id]; ri != nil {
			ri.Inputs = append(ri.Inputs, in)
		}
	}
	return rows.Err()
}

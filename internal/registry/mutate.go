package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/validate"
)

// CreateModel registers a model without versions. A taken name fails with
// ErrExists.
func (r *Registry) CreateModel(ctx context.Context, name, description string, tags map[string]string) (*Model, error) {
	if err := CheckName("model", name); err != nil {
		return nil, fmt.Errorf("create model %s: %w", name, err)
	}
	for k := range tags {
		if k == "" {
			return nil, fmt.Errorf("create model %s: empty tag key: %w", name, ErrInvalid)
		}
	}
	now := r.Now().UnixMilli()
	err := r.db.Write(ctx, func(tx *sqlstore.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, description, latest_version, created_ms, updated_ms)
			VALUES (?, ?, 0, ?, ?) ON CONFLICT (name) DO NOTHING`, name, description, now, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("model %s: %w", name, ErrExists)
		}
		for k, v := range tags {
			if _, err := tx.ExecContext(ctx, "INSERT INTO model_tags (model, key, value) VALUES (?, ?, ?)", name, k, v); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, "model.create", "model", name, nil, map[string]any{"description": description, "tags": tags})
	})
	if err != nil {
		return nil, fmt.Errorf("create model %s: %w", name, err)
	}
	return r.Model(ctx, name)
}

// modelChange runs change on an existing model inside a write transaction,
// stamps the model updated and audits the change; change returns the
// before and after values, or nil, nil for no change.
func (r *Registry) modelChange(ctx context.Context, op, action, name string, change func(tx *sqlstore.Tx) (any, any, error)) error {
	err := r.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM registered_models WHERE name = ?", name).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("model %s: %w", name, ErrNotFound)
		}
		before, after, err := change(tx)
		if err != nil || (before == nil && after == nil) {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE registered_models SET updated_ms = ? WHERE name = ?", r.Now().UnixMilli(), name); err != nil {
			return err
		}
		return audit.Record(ctx, tx, action, "model", name, before, after)
	})
	if err != nil {
		return fmt.Errorf("%s model %s: %w", op, name, err)
	}
	return nil
}

// SetDescription sets a model's description.
func (r *Registry) SetDescription(ctx context.Context, name, description string) error {
	return r.modelChange(ctx, "describe", "model.update", name, func(tx *sqlstore.Tx) (any, any, error) {
		var old string
		if err := tx.QueryRowContext(ctx, "SELECT description FROM registered_models WHERE name = ?", name).Scan(&old); err != nil {
			return nil, nil, err
		}
		if old == description {
			return nil, nil, nil
		}
		_, err := tx.ExecContext(ctx, "UPDATE registered_models SET description = ? WHERE name = ?", description, name)
		return map[string]string{"description": old}, map[string]string{"description": description}, err
	})
}

// SetClassification classifies a model (public, internal or pii; "" clears
// it), recorded in the audit trail.
func (r *Registry) SetClassification(ctx context.Context, name string, c validate.Classification) error {
	if _, err := validate.ParseClassification(string(c)); err != nil {
		return fmt.Errorf("classify model %s: %w: %w", name, ErrInvalid, err)
	}
	return r.modelChange(ctx, "classify", "model.classify", name, func(tx *sqlstore.Tx) (any, any, error) {
		var old string
		if err := tx.QueryRowContext(ctx, "SELECT classification FROM registered_models WHERE name = ?", name).Scan(&old); err != nil {
			return nil, nil, err
		}
		if old == string(c) {
			return nil, nil, nil
		}
		_, err := tx.ExecContext(ctx, "UPDATE registered_models SET classification = ? WHERE name = ?", string(c), name)
		return map[string]string{"classification": old}, map[string]string{"classification": string(c)}, err
	})
}

// SetTag sets a model tag.
func (r *Registry) SetTag(ctx context.Context, name, key, value string) error {
	if key == "" {
		return fmt.Errorf("tag model %s: empty tag key: %w", name, ErrInvalid)
	}
	return r.modelChange(ctx, "tag", "model.tag.set", name, func(tx *sqlstore.Tx) (any, any, error) {
		return setTag(ctx, tx, "model_tags", "model = ?", []any{name}, "model, key, value", key, value)
	})
}

// DeleteTag removes a model tag.
func (r *Registry) DeleteTag(ctx context.Context, name, key string) error {
	return r.modelChange(ctx, "untag", "model.tag.delete", name, func(tx *sqlstore.Tx) (any, any, error) {
		return deleteTag(ctx, tx, "model_tags", "model = ?", []any{name}, key)
	})
}

// setTag upserts key in a tag table whose rows cond selects, returning the
// audit values.
func setTag(ctx context.Context, tx *sqlstore.Tx, table, cond string, args []any, cols, key, value string) (any, any, error) {
	var before any
	var old string
	err := tx.QueryRowContext(ctx, "SELECT value FROM "+table+" WHERE "+cond+" AND key = ?", append(args, key)...).Scan(&old)
	switch {
	case err == nil:
		if old == value {
			return nil, nil, nil
		}
		before = map[string]string{key: old}
		_, err = tx.ExecContext(ctx, "UPDATE "+table+" SET value = ? WHERE "+cond+" AND key = ?", append(append([]any{value}, args...), key)...)
	case errors.Is(err, sql.ErrNoRows):
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(args)+2), ", ")
		_, err = tx.ExecContext(ctx, "INSERT INTO "+table+" ("+cols+") VALUES ("+ph+")", append(args, key, value)...)
	}
	return before, map[string]string{key: value}, err
}

func deleteTag(ctx context.Context, tx *sqlstore.Tx, table, cond string, args []any, key string) (any, any, error) {
	var old string
	err := tx.QueryRowContext(ctx, "SELECT value FROM "+table+" WHERE "+cond+" AND key = ?", append(args, key)...).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("tag %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, nil, err
	}
	_, err = tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE "+cond+" AND key = ?", append(args, key)...)
	return map[string]string{key: old}, nil, err
}

// RenameModel renames a model with its versions, tags, aliases and alias
// history. The new name must be free.
func (r *Registry) RenameModel(ctx context.Context, name, newName string) error {
	if err := CheckName("model", newName); err != nil {
		return fmt.Errorf("rename model %s: %w", name, err)
	}
	if newName == name {
		return nil
	}
	return r.modelChange(ctx, "rename", "model.rename", name, func(tx *sqlstore.Tx) (any, any, error) {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM registered_models WHERE name = ?", newName).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n > 0 {
			return nil, nil, fmt.Errorf("model %s: %w", newName, ErrExists)
		}
		// Copy the rows under the new name, children after parents, then
		// delete the old ones, children first: neither backend cascades a
		// key update, and both check foreign keys at each statement.
		for _, q := range []string{
			`INSERT INTO registered_models (name, description, latest_version, created_ms, updated_ms, classification)
				SELECT ?, description, latest_version, created_ms, updated_ms, classification FROM registered_models WHERE name = ?`,
			`INSERT INTO model_tags (model, key, value) SELECT ?, key, value FROM model_tags WHERE model = ?`,
			`INSERT INTO model_versions (model, version, digest, size, run_id, description, created_ms, created_by, source, stage, updated_ms, run_link)
				SELECT ?, version, digest, size, run_id, description, created_ms, created_by, source, stage, updated_ms, run_link FROM model_versions WHERE model = ?`,
			`INSERT INTO model_version_datasets (model, version, dataset, dataset_version)
				SELECT ?, version, dataset, dataset_version FROM model_version_datasets WHERE model = ?`,
			`INSERT INTO model_version_tags (model, version, key, value) SELECT ?, version, key, value FROM model_version_tags WHERE model = ?`,
			`INSERT INTO model_aliases (model, alias, version) SELECT ?, alias, version FROM model_aliases WHERE model = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, newName, name); err != nil {
				return nil, nil, err
			}
		}
		if err := deleteModelRows(ctx, tx, name); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE model_alias_events SET model = ? WHERE model = ?", newName, name); err != nil {
			return nil, nil, err
		}
		return map[string]string{"name": name}, map[string]string{"name": newName}, nil
	})
}

// deleteModelRows deletes a model's rows, children first.
func deleteModelRows(ctx context.Context, tx *sqlstore.Tx, name string) error {
	for _, q := range []string{"DELETE FROM model_aliases WHERE model = ?", "DELETE FROM model_version_datasets WHERE model = ?",
		"DELETE FROM model_version_tags WHERE model = ?", "DELETE FROM model_versions WHERE model = ?",
		"DELETE FROM model_tags WHERE model = ?", "DELETE FROM registered_models WHERE name = ?"} {
		if _, err := tx.ExecContext(ctx, q, name); err != nil {
			return err
		}
	}
	return nil
}

// DeleteVersion deletes one version and the aliases pointing at it. The
// bundle blob is kept (other versions may share it).
func (r *Registry) DeleteVersion(ctx context.Context, name string, version int64) error {
	now := r.Now().UnixMilli()
	user := r.author(ctx)
	err := r.db.Write(ctx, func(tx *sqlstore.Tx) error {
		return DeleteVersionTx(ctx, tx, name, version, user, now)
	})
	if err != nil {
		return fmt.Errorf("delete model %s version %d: %w", name, version, err)
	}
	return nil
}

// DeleteVersionTx deletes one version and the aliases pointing at it
// inside tx, recording the alias removals (by user, at now in unix
// milliseconds) and a "model.version.delete" audit entry. It is
// [Registry.DeleteVersion] for callers that check more in the same
// transaction (retention).
func DeleteVersionTx(ctx context.Context, tx *sqlstore.Tx, name string, version int64, user string, now int64) error {
	v, err := versionRow(ctx, tx, name, version)
	if err != nil {
		return err
	}
	if err := logAliasRemovals(ctx, tx, name, "AND version = ?", []any{version}, user, now); err != nil {
		return err
	}
	for _, q := range []string{"DELETE FROM model_aliases WHERE model = ? AND version = ?", "DELETE FROM model_version_datasets WHERE model = ? AND version = ?",
		"DELETE FROM model_version_tags WHERE model = ? AND version = ?", "DELETE FROM model_versions WHERE model = ? AND version = ?"} {
		if _, err := tx.ExecContext(ctx, q, name, version); err != nil {
			return err
		}
	}
	return audit.Record(ctx, tx, "model.version.delete", "model", name, v, nil)
}

// versionRow reads a version's audited fields inside tx.
func versionRow(ctx context.Context, tx *sqlstore.Tx, name string, version int64) (*versionAudit, error) {
	v := &versionAudit{Version: version}
	err := tx.QueryRowContext(ctx, "SELECT digest, size, source, run_id, created_by FROM model_versions WHERE model = ? AND version = ?", name, version).
		Scan(&v.Digest, &v.Size, &v.Source, &v.RunID, &v.User)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("model %s version %d: %w", name, version, ErrNotFound)
	}
	return v, err
}

// DeleteModel deletes a model with all its versions and aliases. The alias
// history and the audit trail are kept.
func (r *Registry) DeleteModel(ctx context.Context, name string) error {
	now := r.Now().UnixMilli()
	user := r.author(ctx)
	err := r.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var desc string
		var latest int64
		err := tx.QueryRowContext(ctx, "SELECT description, latest_version FROM registered_models WHERE name = ?", name).Scan(&desc, &latest)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("model %s: %w", name, ErrNotFound)
		}
		if err != nil {
			return err
		}
		var versions int64
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM model_versions WHERE model = ?", name).Scan(&versions); err != nil {
			return err
		}
		if err := logAliasRemovals(ctx, tx, name, "", nil, user, now); err != nil {
			return err
		}
		if err := deleteModelRows(ctx, tx, name); err != nil {
			return err
		}
		return audit.Record(ctx, tx, "model.delete", "model", name,
			map[string]any{"description": desc, "latest_version": latest, "versions": versions}, nil)
	})
	if err != nil {
		return fmt.Errorf("delete model %s: %w", name, err)
	}
	return nil
}

func logAliasRemovals(ctx context.Context, tx *sqlstore.Tx, name, cond string, args []any, user string, now int64) error {
	rows, err := tx.QueryContext(ctx, "SELECT alias, version FROM model_aliases WHERE model = ? "+cond, append([]any{name}, args...)...)
	if err != nil {
		return err
	}
	type av struct {
		a string
		v int64
	}
	var list []av
	for rows.Next() {
		var x av
		if err := rows.Scan(&x.a, &x.v); err != nil {
			rows.Close()
			return err
		}
		list = append(list, x)
	}
	rows.Close()
	for _, x := range list {
		if _, err := tx.ExecContext(ctx, `INSERT INTO model_alias_events (id, model, alias, from_version, to_version, user_name, ts_ms)
			VALUES (?, ?, ?, ?, NULL, ?, ?)`, newEventID(), name, x.a, x.v, user, now); err != nil {
			return err
		}
	}
	return nil
}

// versionChange runs change on an existing version inside a write
// transaction, stamps it updated and audits the change under the model.
func (r *Registry) versionChange(ctx context.Context, op, action, name string, version int64, change func(tx *sqlstore.Tx) (any, any, error)) error {
	now := r.Now().UnixMilli()
	err := r.db.Write(ctx, func(tx *sqlstore.Tx) error {
		if _, err := versionRow(ctx, tx, name, version); err != nil {
			return err
		}
		before, after, err := change(tx)
		if err != nil || (before == nil && after == nil) {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE model_versions SET updated_ms = ? WHERE model = ? AND version = ?", now, name, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE registered_models SET updated_ms = ? WHERE name = ?", now, name); err != nil {
			return err
		}
		return audit.Record(ctx, tx, action, "model", name, withVersion(version, before), withVersion(version, after))
	})
	if err != nil {
		return fmt.Errorf("%s model %s version %d: %w", op, name, version, err)
	}
	return nil
}

// withVersion wraps an audit value with the version it belongs to.
func withVersion(version int64, v any) any {
	if v == nil {
		return nil
	}
	return map[string]any{"version": version, "change": v}
}

// SetVersionDescription sets a version's description.
func (r *Registry) SetVersionDescription(ctx context.Context, name string, version int64, description string) error {
	return r.versionChange(ctx, "describe", "model.version.update", name, version, func(tx *sqlstore.Tx) (any, any, error) {
		var old string
		if err := tx.QueryRowContext(ctx, "SELECT description FROM model_versions WHERE model = ? AND version = ?", name, version).Scan(&old); err != nil {
			return nil, nil, err
		}
		if old == description {
			return nil, nil, nil
		}
		_, err := tx.ExecContext(ctx, "UPDATE model_versions SET description = ? WHERE model = ? AND version = ?", description, name, version)
		return map[string]string{"description": old}, map[string]string{"description": description}, err
	})
}

// SetVersionTag sets a tag on a version.
func (r *Registry) SetVersionTag(ctx context.Context, name string, version int64, key, value string) error {
	if key == "" {
		return fmt.Errorf("tag model %s version %d: empty tag key: %w", name, version, ErrInvalid)
	}
	return r.versionChange(ctx, "tag", "model.version.tag.set", name, version, func(tx *sqlstore.Tx) (any, any, error) {
		return setTag(ctx, tx, "model_version_tags", "model = ? AND version = ?", []any{name, version}, "model, version, key, value", key, value)
	})
}

// DeleteVersionTag removes a tag from a version.
func (r *Registry) DeleteVersionTag(ctx context.Context, name string, version int64, key string) error {
	return r.versionChange(ctx, "untag", "model.version.tag.delete", name, version, func(tx *sqlstore.Tx) (any, any, error) {
		return deleteTag(ctx, tx, "model_version_tags", "model = ? AND version = ?", []any{name, version}, key)
	})
}

// ParseStage returns the canonical spelling of a stage name given in any
// case ("production" → "Production").
func ParseStage(s string) (string, error) {
	for _, st := range []string{StageNone, StageStaging, StageProduction, StageArchived} {
		if strings.EqualFold(s, st) {
			return st, nil
		}
	}
	return "", fmt.Errorf("stage %q: want None, Staging, Production or Archived: %w", s, ErrInvalid)
}

// TransitionStage moves a version to stage. With archiveOthers, the other
// versions in that stage (Staging or Production) move to Archived, in the
// same transaction.
func (r *Registry) TransitionStage(ctx context.Context, name string, version int64, stage string, archiveOthers bool) error {
	st, err := ParseStage(stage)
	if err != nil {
		return fmt.Errorf("transition model %s version %d: %w", name, version, err)
	}
	now := r.Now().UnixMilli()
	return r.versionChange(ctx, "transition", "model.version.stage", name, version, func(tx *sqlstore.Tx) (any, any, error) {
		var old string
		if err := tx.QueryRowContext(ctx, "SELECT stage FROM model_versions WHERE model = ? AND version = ?", name, version).Scan(&old); err != nil {
			return nil, nil, err
		}
		var archived []int64
		if archiveOthers && (st == StageStaging || st == StageProduction) {
			rows, err := tx.QueryContext(ctx, "SELECT version FROM model_versions WHERE model = ? AND stage = ? AND version <> ? ORDER BY version", name, st, version)
			if err != nil {
				return nil, nil, err
			}
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					rows.Close()
					return nil, nil, err
				}
				archived = append(archived, v)
			}
			rows.Close()
			if _, err := tx.ExecContext(ctx, "UPDATE model_versions SET stage = ?, updated_ms = ? WHERE model = ? AND stage = ? AND version <> ?",
				StageArchived, now, name, st, version); err != nil {
				return nil, nil, err
			}
		}
		if old == st && len(archived) == 0 {
			return nil, nil, nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE model_versions SET stage = ? WHERE model = ? AND version = ?", st, name, version); err != nil {
			return nil, nil, err
		}
		after := map[string]any{"stage": st}
		if len(archived) > 0 {
			after["archived_versions"] = archived
		}
		return map[string]string{"stage": old}, after, nil
	})
}

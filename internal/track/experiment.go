package track

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// ExperimentInfo is an experiment with everything the MLflow API reports.
type ExperimentInfo struct {
	ID   string `json:"experiment_id"`
	Name string `json:"name"`
	// ArtifactLocation is where the experiment's artifacts are said to
	// live; empty means the server's default.
	ArtifactLocation string            `json:"artifact_location,omitempty"`
	Lifecycle        string            `json:"lifecycle_stage"`
	Created          time.Time         `json:"creation_time"`
	Updated          time.Time         `json:"last_update_time"`
	Tags             map[string]string `json:"tags,omitempty"`
}

// CreateExperiment creates an experiment. A name taken by another
// experiment, even a deleted one, fails with ErrExists.
func (t *Tracker) CreateExperiment(ctx context.Context, name, artifactLocation string, tags map[string]string) (string, error) {
	if err := CheckKey("experiment", name); err != nil {
		return "", fmt.Errorf("create experiment: %w", err)
	}
	for k := range tags {
		if err := CheckKey("tag", k); err != nil {
			return "", fmt.Errorf("create experiment %q: %w", name, err)
		}
	}
	id := NewID()
	if name == DefaultExperiment {
		id = DefaultExperimentID
	}
	now := t.nowMS()
	err := t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO experiments (id, name, created_ms, last_update_ms, artifact_location)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, name, now, now, artifactLocation)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("experiment %q: %w", name, ErrExists)
		}
		for _, k := range sortedKeys(tags) {
			if _, err := tx.ExecContext(ctx, "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)", id, k, tags[k]); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, "experiment.create", "experiment", id, nil,
			map[string]any{"name": name, "artifact_location": artifactLocation, "tags": tags})
	})
	if err != nil {
		return "", fmt.Errorf("create experiment %q: %w", name, err)
	}
	return id, nil
}

// EnsureExperiment returns the id of the named experiment, creating it on
// first use as runs started with its name do.
func (t *Tracker) EnsureExperiment(ctx context.Context, name string) (string, error) {
	var id string
	err := t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var err error
		id, err = ensureExperiment(ctx, tx, name, t.nowMS())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("experiment %q: %w", name, err)
	}
	return id, nil
}

const experimentCols = "id, name, artifact_location, lifecycle_stage, created_ms, last_update_ms"

func scanExperiment(sc interface{ Scan(...any) error }) (*ExperimentInfo, error) {
	e := &ExperimentInfo{Tags: map[string]string{}}
	var c, u int64
	if err := sc.Scan(&e.ID, &e.Name, &e.ArtifactLocation, &e.Lifecycle, &c, &u); err != nil {
		return nil, err
	}
	e.Created, e.Updated = time.UnixMilli(c).UTC(), time.UnixMilli(u).UTC()
	return e, nil
}

// Experiment returns an experiment by id, deleted or not. The Default
// experiment ("0") is created on first use.
func (t *Tracker) Experiment(ctx context.Context, id string) (*ExperimentInfo, error) {
	if id == DefaultExperimentID {
		if _, err := t.EnsureExperiment(ctx, DefaultExperiment); err != nil && !errors.Is(err, ErrDeleted) {
			return nil, err
		}
	}
	return t.experimentWhere(ctx, "id = ?", id)
}

// ExperimentByName returns an experiment by name, deleted or not.
func (t *Tracker) ExperimentByName(ctx context.Context, name string) (*ExperimentInfo, error) {
	if name == DefaultExperiment {
		if _, err := t.EnsureExperiment(ctx, DefaultExperiment); err != nil && !errors.Is(err, ErrDeleted) {
			return nil, err
		}
	}
	return t.experimentWhere(ctx, "name = ?", name)
}

func (t *Tracker) experimentWhere(ctx context.Context, cond string, arg string) (*ExperimentInfo, error) {
	e, err := scanExperiment(t.db.QueryRowContext(ctx, "SELECT "+experimentCols+" FROM experiments WHERE "+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("experiment %q: %w", arg, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("experiment %q: %w", arg, err)
	}
	if err := t.experimentTags(ctx, []*ExperimentInfo{e}); err != nil {
		return nil, err
	}
	return e, nil
}

func (t *Tracker) experimentTags(ctx context.Context, es []*ExperimentInfo) error {
	if len(es) == 0 {
		return nil
	}
	byID := map[string]*ExperimentInfo{}
	args := make([]any, len(es))
	for i, e := range es {
		byID[e.ID] = e
		args[i] = e.ID
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(es)), ", ")
	rows, err := t.db.QueryContext(ctx, "SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN ("+ph+")", args...)
	if err != nil {
		return fmt.Errorf("experiment tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return fmt.Errorf("experiment tags: %w", err)
		}
		byID[id].Tags[k] = v
	}
	return rows.Err()
}

// experimentChange runs change on an existing experiment inside a write
// transaction and audits it; change returns the before and after values,
// or nil, nil for no change.
func (t *Tracker) experimentChange(ctx context.Context, op, action, id string, change func(tx *sqlstore.Tx, e *ExperimentInfo, now int64) (any, any, error)) error {
	now := t.nowMS()
	err := t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		e, err := scanExperiment(tx.QueryRowContext(ctx, "SELECT "+experimentCols+" FROM experiments WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("experiment %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		before, after, err := change(tx, e, now)
		if err != nil || (before == nil && after == nil) {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE experiments SET last_update_ms = ? WHERE id = ?", now, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, action, "experiment", id, before, after)
	})
	if err != nil {
		return fmt.Errorf("%s experiment %s: %w", op, id, err)
	}
	return nil
}

// RenameExperiment renames an experiment; the new name must be free.
func (t *Tracker) RenameExperiment(ctx context.Context, id, name string) error {
	if err := CheckKey("experiment", name); err != nil {
		return fmt.Errorf("rename experiment %s: %w", id, err)
	}
	return t.experimentChange(ctx, "rename", "experiment.rename", id, func(tx *sqlstore.Tx, e *ExperimentInfo, now int64) (any, any, error) {
		if e.Name == name {
			return nil, nil, nil
		}
		if e.Lifecycle != LifecycleActive {
			return nil, nil, fmt.Errorf("experiment %q is deleted: %w", e.Name, ErrDeleted)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM experiments WHERE name = ?", name).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n > 0 {
			return nil, nil, fmt.Errorf("experiment %q: %w", name, ErrExists)
		}
		_, err := tx.ExecContext(ctx, "UPDATE experiments SET name = ? WHERE id = ?", name, id)
		return map[string]string{"name": e.Name}, map[string]string{"name": name}, err
	})
}

// SetExperimentLifecycle deletes an experiment softly with its active runs
// (LifecycleDeleted) or restores it with the runs deleted with it
// (LifecycleActive), as MLflow does. The Default experiment cannot be
// deleted.
func (t *Tracker) SetExperimentLifecycle(ctx context.Context, id, stage string) error {
	if stage != LifecycleActive && stage != LifecycleDeleted {
		return fmt.Errorf("set lifecycle of experiment %s: stage %q: want active or deleted: %w", id, stage, ErrInvalid)
	}
	action, op := "experiment.delete", "delete"
	if stage == LifecycleActive {
		action, op = "experiment.restore", "restore"
	}
	return t.experimentChange(ctx, op, action, id, func(tx *sqlstore.Tx, e *ExperimentInfo, now int64) (any, any, error) {
		if e.Lifecycle == stage {
			return nil, nil, fmt.Errorf("experiment %q is already %s: %w", e.Name, stage, ErrInvalid)
		}
		if id == DefaultExperimentID && stage == LifecycleDeleted {
			return nil, nil, fmt.Errorf("the Default experiment (id 0) cannot be deleted: %w", ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE experiments SET lifecycle_stage = ? WHERE id = ?", stage, id); err != nil {
			return nil, nil, err
		}
		var res sql.Result
		var err error
		if stage == LifecycleDeleted {
			res, err = tx.ExecContext(ctx, "UPDATE runs SET lifecycle_stage = 'deleted', deleted_ms = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'", now, id)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE runs SET lifecycle_stage = 'active', deleted_ms = NULL
				WHERE experiment_id = ? AND lifecycle_stage = 'deleted' AND deleted_ms >= ?`, id, e.Updated.UnixMilli())
		}
		if err != nil {
			return nil, nil, err
		}
		n, _ := res.RowsAffected()
		return map[string]string{"lifecycle_stage": e.Lifecycle}, map[string]any{"lifecycle_stage": stage, "runs": n}, nil
	})
}

// SetExperimentTag sets a tag on an experiment.
func (t *Tracker) SetExperimentTag(ctx context.Context, id, key, value string) error {
	if err := CheckKey("tag", key); err != nil {
		return fmt.Errorf("set tag on experiment %s: %w", id, err)
	}
	return t.experimentChange(ctx, "set tag on", "experiment.tag.set", id, func(tx *sqlstore.Tx, e *ExperimentInfo, now int64) (any, any, error) {
		if e.Lifecycle != LifecycleActive {
			return nil, nil, fmt.Errorf("experiment %q is deleted: %w", e.Name, ErrDeleted)
		}
		var before any
		var old string
		err := tx.QueryRowContext(ctx, "SELECT value FROM experiment_tags WHERE experiment_id = ? AND key = ?", id, key).Scan(&old)
		switch {
		case err == nil:
			if old == value {
				return nil, nil, nil
			}
			before = map[string]string{key: old}
		case !errors.Is(err, sql.ErrNoRows):
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`, id, key, value)
		return before, map[string]string{key: value}, err
	})
}

// DeleteExperimentTag removes a tag from an experiment.
func (t *Tracker) DeleteExperimentTag(ctx context.Context, id, key string) error {
	return t.experimentChange(ctx, "delete tag of", "experiment.tag.delete", id, func(tx *sqlstore.Tx, e *ExperimentInfo, now int64) (any, any, error) {
		var old string
		err := tx.QueryRowContext(ctx, "SELECT value FROM experiment_tags WHERE experiment_id = ? AND key = ?", id, key).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, fmt.Errorf("tag %q: %w", key, ErrNotFound)
		}
		if err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?", id, key)
		return map[string]string{key: old}, nil, err
	})
}

// ExperimentSearch selects, orders and pages experiments.
type ExperimentSearch struct {
	// Filter holds conditions on name, creation_time, last_update_time and
	// tags.KEY joined by AND ("name LIKE 'churn%' AND tags.team = 'risk'").
	Filter string
	// OrderBy holds "name", "experiment_id", "creation_time" or
	// "last_update_time", each optionally ASC or DESC (default ASC).
	// Without it, newest first.
	OrderBy []string
	View    ViewType
	// Limit is the page size: default 1,000, at most 50,000.
	Limit     int
	PageToken string
}

var experimentAttributes = map[string]string{
	"name": "e.name", "experiment_id": "e.id", "creation_time": "e.created_ms", "last_update_time": "e.last_update_ms",
}

func parseExperimentTerm(s string) (Term, error) {
	ent, key, ok := strings.Cut(s, ".")
	if !ok {
		ent, key = "attributes", s
	}
	switch strings.ToLower(ent) {
	case "tags", "tag":
		if key == "" {
			return Term{}, fmt.Errorf("missing key after %q", ent+".")
		}
		return Term{Entity: EntityTag, Key: key}, nil
	case "attributes", "attribute", "attr":
		if _, ok := experimentAttributes[strings.ToLower(key)]; ok {
			return Term{Entity: EntityAttribute, Key: strings.ToLower(key)}, nil
		}
		return Term{}, fmt.Errorf("unknown experiment attribute %q: want name, creation_time or last_update_time", key)
	}
	return Term{}, fmt.Errorf("unknown entity %q in %q: want an attribute (name, creation_time, last_update_time) or tags.KEY", ent, s)
}

// SearchExperiments returns one page of experiments matching s, with the
// token of the next page ("" on the last).
func (t *Tracker) SearchExperiments(ctx context.Context, s ExperimentSearch) ([]ExperimentInfo, string, error) {
	limit := s.Limit
	if limit <= 0 {
		limit = 1000
	}
	if limit > 50000 {
		return nil, "", fmt.Errorf("search experiments: max_results %d: at most 50000: %w", limit, ErrInvalid)
	}
	offset := 0
	if s.PageToken != "" {
		var err error
		if offset, err = DecodePageToken(s.PageToken); err != nil {
			return nil, "", fmt.Errorf("search experiments: %w: %w", err, ErrInvalid)
		}
	}
	f, err := parseFilter(s.Filter, parseExperimentTerm, func(t Term) bool {
		return t.Entity == EntityAttribute && (t.Key == "creation_time" || t.Key == "last_update_time")
	})
	if err != nil {
		return nil, "", fmt.Errorf("search experiments: %w", err)
	}
	var joins, where []string
	var jargs, wargs []any
	for i, c := range f {
		col := ""
		if c.Term.Entity == EntityTag {
			a := "t" + strconv.Itoa(i)
			joins = append(joins, fmt.Sprintf("JOIN experiment_tags %s ON %s.experiment_id = e.id AND %s.key = ?", a, a, a))
			jargs = append(jargs, c.Term.Key)
			col = a + ".value"
		} else {
			col = experimentAttributes[c.Term.Key]
		}
		vals := c.Values
		if col == "e.created_ms" || col == "e.last_update_ms" {
			for i, v := range vals {
				vals[i] = int64(v.(float64))
			}
		}
		switch c.Op {
		case "IN", "NOT IN":
			where = append(where, fmt.Sprintf("%s %s (%s)", col, c.Op, strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")))
			wargs = append(wargs, vals...)
		case "ILIKE":
			where = append(where, "LOWER("+col+") LIKE LOWER(?)")
			wargs = append(wargs, vals[0])
		default:
			where = append(where, col+" "+c.Op+" ?")
			wargs = append(wargs, vals[0])
		}
	}
	switch s.View {
	case ActiveOnly:
		where = append(where, "e.lifecycle_stage = 'active'")
	case DeletedOnly:
		where = append(where, "e.lifecycle_stage = 'deleted'")
	}
	var order []string
	for _, ob := range s.OrderBy {
		fs := strings.Fields(ob)
		if len(fs) == 0 || len(fs) > 2 {
			return nil, "", fmt.Errorf("search experiments: order by %q: want ATTRIBUTE [ASC|DESC]: %w", ob, ErrInvalid)
		}
		key := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(fs[0]), "attributes."), "attribute.")
		col, ok := experimentAttributes[key]
		if !ok {
			return nil, "", fmt.Errorf("search experiments: order by %q: want name, experiment_id, creation_time or last_update_time: %w", ob, ErrInvalid)
		}
		dir := "ASC"
		if len(fs) == 2 {
			switch strings.ToUpper(fs[1]) {
			case "ASC", "DESC":
				dir = strings.ToUpper(fs[1])
			default:
				return nil, "", fmt.Errorf("search experiments: order by %q: direction %q: want ASC or DESC: %w", ob, fs[1], ErrInvalid)
			}
		}
		order = append(order, col+" "+dir)
	}
	order = append(order, "e.created_ms DESC", "e.id ASC")
	q := "SELECT e.id, e.name, e.artifact_location, e.lifecycle_stage, e.created_ms, e.last_update_ms FROM experiments e " + strings.Join(joins, " ")
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	args := append(append(jargs, wargs...), limit+1, offset)
	rows, err := t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("search experiments: %w", err)
	}
	var out []*ExperimentInfo
	for rows.Next() {
		e, err := scanExperiment(rows)
		if err != nil {
			rows.Close()
			return nil, "", fmt.Errorf("search experiments: %w", err)
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("search experiments: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = EncodePageToken(offset + limit)
	}
	if err := t.experimentTags(ctx, out); err != nil {
		return nil, "", err
	}
	res := make([]ExperimentInfo, len(out))
	for i, e := range out {
		res[i] = *e
	}
	return res, next, nil
}

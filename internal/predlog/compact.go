package predlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Feedback compaction. gyre serve stores the labels it received about once
// a second, one small Parquet file each; Compact merges a model's runs of
// small files into files of up to compactMaxRows labels, so a read opens
// tens of files where it opened tens of thousands.
//
// A merge keeps every label and what a read makes of them: a row's label
// is the one given last, among equal times the one stored last, where
// "stored last" is the order of (logged_ms, digest) of the files and of the
// rows within a file. So a merge takes only consecutive files of that order,
// writes their rows in that order, and indexes the merged file at the
// position of the last of them (its logged_ms); files whose logged_ms ties
// with a neighbour's, which the digest would order, are left alone.

const (
	// CompactRows is the size below which a feedback file is small: Compact
	// merges runs of consecutive small files of a model.
	CompactRows = 1 << 15
	// compactMaxRows bounds the labels of a merged file.
	compactMaxRows = 1 << 16
	// DefaultCompactAfter is the number of feedback files a Log writes for a
	// model before it compacts that model's feedback (Log.CompactAfter).
	DefaultCompactAfter = 64
)

// CompactedFile is one feedback file Compact replaced.
type CompactedFile struct {
	Digest string `json:"digest"`
	Labels int64  `json:"labels"`
	Size   int64  `json:"size"`
}

// Compacted is one merge: feedback files of a model replaced by one.
type Compacted struct {
	Model string `json:"model"`
	// Into is the merged file (its digest empty in a dry run).
	Into CompactedFile `json:"into"`
	// From are the files merged, in the order their rows were written.
	From []CompactedFile `json:"from"`
}

// errCompactRaced aborts a merge whose files another process merged or
// expired since the merge was planned.
var errCompactRaced = errors.New("feedback files changed since the merge was planned")

// Compact merges the runs of consecutive small feedback files (fewer than
// CompactRows labels) of model, or of every model when model is "": each
// merged file is written to the artifact store first, then indexed in the
// one write transaction that removes the index rows of the files it
// replaces and records the merge in the audit (action
// prediction_log.feedback.compact). The replaced files stay in the artifact
// store, so a read that listed them before the merge still finds them;
// gyre gc deletes them once nothing references them and they are older
// than its grace period. A merge that another process made first is
// skipped. A model whose merge fails (a file missing from the artifact
// store) does not stop the others': the merges made are returned with the
// failures. With dryRun nothing is written and the planned merges are
// returned.
func (l *Log) Compact(ctx context.Context, model string, dryRun bool) ([]Compacted, error) {
	if err := l.Upgrade(ctx); err != nil {
		return nil, err
	}
	models := []string{model}
	if model == "" {
		var err error
		if models, err = feedbackModels(ctx, l.db); err != nil {
			return nil, fmt.Errorf("compact feedback: %w", err)
		}
	}
	out := []Compacted{}
	var errs []error
	for _, m := range models {
		done, err := l.compactModel(ctx, m, dryRun)
		out = append(out, done...)
		if err != nil {
			errs = append(errs, fmt.Errorf("compact feedback of %s: %w", m, err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	return out, errors.Join(errs...)
}

// feedbackModels lists the models with feedback files.
func feedbackModels(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT DISTINCT model FROM feedback_log ORDER BY model")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// indexedFeedback is a feedback file's index row.
type indexedFeedback struct {
	CompactedFile
	logged int64 // logged_ms
}

// compactModel plans and makes one model's merges.
func (l *Log) compactModel(ctx context.Context, model string, dryRun bool) ([]Compacted, error) {
	files, err := feedbackIndex(ctx, l.db, model)
	if err != nil {
		return nil, err
	}
	out := []Compacted{}
	for _, g := range compactPlan(files) {
		c := Compacted{Model: model}
		for _, f := range g {
			c.From = append(c.From, f.CompactedFile)
			c.Into.Labels += f.Labels
		}
		if dryRun {
			out = append(out, c)
			continue
		}
		err := l.merge(ctx, &c, g[len(g)-1].logged)
		if errors.Is(err, errCompactRaced) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

// feedbackIndex reads a model's feedback index in read order.
func feedbackIndex(ctx context.Context, q querier, model string) ([]indexedFeedback, error) {
	rows, err := q.QueryContext(ctx, `SELECT digest, n, size, logged_ms FROM feedback_log WHERE model = ?
		ORDER BY logged_ms, digest`, model)
	if err != nil {
		return nil, fmt.Errorf("query feedback index: %w", err)
	}
	defer rows.Close()
	var out []indexedFeedback
	for rows.Next() {
		var f indexedFeedback
		if err := rows.Scan(&f.Digest, &f.Labels, &f.Size, &f.logged); err != nil {
			return nil, fmt.Errorf("query feedback index: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// compactPlan groups files (in read order) into merges: consecutive small
// files, up to compactMaxRows labels a merge, each merge's last file with a
// logged_ms that neither neighbour shares (the merged file takes it, and
// must keep its place in the read order).
func compactPlan(files []indexedFeedback) [][]indexedFeedback {
	var out [][]indexedFeedback
	for i := 0; i < len(files); {
		if files[i].Labels >= CompactRows {
			i++
			continue
		}
		j, total := i, int64(0)
		for j < len(files) && files[j].Labels < CompactRows && total+files[j].Labels <= compactMaxRows {
			total += files[j].Labels
			j++
		}
		for j-i >= 2 && j < len(files) && files[j].logged == files[j-1].logged {
			j--
		}
		if j-i >= 2 && (i == 0 || files[i-1].logged < files[j-1].logged) {
			out = append(out, files[i:j])
			i = j
			continue
		}
		i++
	}
	return out
}

// merge writes the files of c.From as one file and swaps the index rows,
// the merged file indexed at logged.
func (l *Log) merge(ctx context.Context, c *Compacted, logged int64) error {
	var fbs []Feedback
	for _, f := range c.From {
		fr, err := l.readFile(ctx, f.Digest)
		if err != nil {
			return fmt.Errorf("feedback %s: %w", f.Digest, err)
		}
		lf, err := openLabels(fr)
		if err != nil {
			return fmt.Errorf("feedback %s: %w", f.Digest, err)
		}
		for i, t := range lf.times {
			fbs = append(fbs, Feedback{Model: c.Model, RequestID: lf.reqID(i), Row: int(lf.row(i)), Label: lf.label(i), Time: time.Unix(0, t).UTC()})
		}
	}
	p, err := l.putFeedback(ctx, fbs)
	if err != nil {
		return err
	}
	c.Into = CompactedFile{Digest: p.ref.Digest, Labels: int64(p.n), Size: p.ref.Size}
	return l.db.Write(ctx, func(tx *sqlstore.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO feedback_log (digest, model, min_time_ms, max_time_ms, n, size, logged_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
			p.ref.Digest, p.model, floorMs(p.lo), floorMs(p.hi), int64(p.n), p.ref.Size, logged)
		if err != nil {
			return fmt.Errorf("index merged feedback: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errCompactRaced // the same labels are indexed already, elsewhere in the order
		}
		for _, f := range c.From {
			res, err := tx.ExecContext(ctx, "DELETE FROM feedback_log WHERE digest = ? AND model = ?", f.Digest, c.Model)
			if err != nil {
				return fmt.Errorf("unindex merged feedback: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return errCompactRaced
			}
		}
		return audit.Record(ctx, tx, "prediction_log.feedback.compact", "model", c.Model, c.From, c.Into)
	})
}

// noteFeedbackFile counts a feedback file written for model and compacts
// the model's feedback when CompactAfter files have been written since it
// last did. Compaction here is an optimisation of later reads: its failure
// leaves the labels stored as they are (gyre gc compacts too), so it is
// not reported to the writer, whose labels are stored.
func (l *Log) noteFeedbackFile(ctx context.Context, model string) {
	after := l.CompactAfter
	if after == 0 {
		after = DefaultCompactAfter
	}
	if after < 0 {
		return
	}
	l.compactMu.Lock()
	if l.written == nil {
		l.written = map[string]int{}
	}
	l.written[model]++
	due := l.written[model] >= after
	if due {
		l.written[model] = 0
	}
	l.compactMu.Unlock()
	if due {
		_, _ = l.compactModel(ctx, model, false) // not the writer's failure: see above
	}
}

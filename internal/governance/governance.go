// Package governance applies a store's data-governance rules where data
// leaves the training path: the PII columns a data contract declares
// (validate.ColumnContract.PII) are masked in the prediction log and in
// reports, either dropped or replaced by a keyed hash.
//
// The hash is HMAC-SHA256 under a salt of the store (store_settings,
// migration 0008; 32 random bytes made at first use), cut to 16 bytes and
// written as "pii:" + 32 hex digits: the same value masks to the same text
// in one store (so counts, distinct values and joins on the log still
// work), a value cannot be read back, and without the salt it cannot be
// guessed by hashing candidates. A hashed column becomes a string column;
// missing values stay missing.
package governance

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/validate"
)

// saltKey names the salt in store_settings.
const saltKey = "pii_salt"

// Salt returns the store's PII salt, making it (from crypto/rand) the
// first time; concurrent first calls agree on one salt.
func Salt(ctx context.Context, db *sqlstore.DB) ([]byte, error) {
	var hx string
	err := db.QueryRowContext(ctx, "SELECT value FROM store_settings WHERE key = ?", saltKey).Scan(&hx)
	if errors.Is(err, sql.ErrNoRows) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("make PII salt: %w", err)
		}
		err = db.Write(ctx, func(tx *sqlstore.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO store_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
				saltKey, hex.EncodeToString(b[:])); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, "SELECT value FROM store_settings WHERE key = ?", saltKey).Scan(&hx)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("read PII salt: %w", err)
	}
	salt, err := hex.DecodeString(hx)
	if err != nil || len(salt) < 16 {
		return nil, fmt.Errorf("read PII salt: store_settings.%s is not a hex salt of 16 bytes or more", saltKey)
	}
	return salt, nil
}

// Masker masks the PII columns of frames.
type Masker struct {
	masks map[string]validate.Mask
	salt  []byte
}

// NewMasker masks the columns masks names (from
// validate.Contract.Masks) with salt (from Salt; unused when every mask is
// drop). A Masker with no masks returns frames as they are.
func NewMasker(masks map[string]validate.Mask, salt []byte) (*Masker, error) {
	for col, m := range masks {
		switch m {
		case validate.MaskDrop:
		case validate.MaskHash:
			if len(salt) < 16 {
				return nil, fmt.Errorf("mask column %q: hashing needs the store's salt", col)
			}
		default:
			return nil, fmt.Errorf("mask column %q: mask %q: want hash or drop", col, m)
		}
	}
	return &Masker{masks: masks, salt: salt}, nil
}

// Hash returns the mask of one value.
func (m *Masker) Hash(v string) string {
	h := hmac.New(sha256.New, m.salt)
	h.Write([]byte(v))
	return "pii:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Frame returns f with its PII columns dropped or hashed (f itself when
// it has none, or for a nil Masker). Roles of the kept columns are kept.
func (m *Masker) Frame(f *frame.Frame) (*frame.Frame, error) {
	if m == nil || f == nil || len(m.masks) == 0 {
		return f, nil
	}
	var drop []string
	out := f
	for _, c := range f.Columns() {
		switch m.masks[c.Name()] {
		case validate.MaskDrop:
			drop = append(drop, c.Name())
		case validate.MaskHash:
			n := c.Len()
			vals := make([]string, n)
			valid := frame.NewValidity(n)
			for i := range n {
				if c.IsNull(i) {
					valid.SetNull(i)
					continue
				}
				vals[i] = m.Hash(c.Format(i))
			}
			var err error
			if out, err = out.With(&frame.String{ColName: c.Name(), Values: vals, Valid: valid}); err != nil {
				return nil, fmt.Errorf("mask column %q: %w", c.Name(), err)
			}
		}
	}
	if len(drop) > 0 {
		var err error
		if out, err = out.Drop(drop...); err != nil {
			return nil, fmt.Errorf("mask columns %v: %w", drop, err)
		}
	}
	return out, nil
}

// Log is where a masking log forwards batches: the prediction log
// (*predlog.Log satisfies it, as gyre serve's PredictionLog does).
type Log interface {
	LogPredictions(ctx context.Context, b *predlog.Batch) error
	LogFeedback(ctx context.Context, fb []predlog.Feedback) error
}

// MaskingLog masks each batch's PII input columns before the log stores
// it; gyre serve writes through it when given a contract with PII columns.
type MaskingLog struct {
	Next   Log
	Masker *Masker
}

// LogPredictions masks b's inputs and forwards it; b is not modified.
func (l *MaskingLog) LogPredictions(ctx context.Context, b *predlog.Batch) error {
	in, err := l.Masker.Frame(b.Input)
	if err != nil {
		return fmt.Errorf("log predictions of %s: %w", b.Model, err)
	}
	masked := *b
	masked.Input = in
	return l.Next.LogPredictions(ctx, &masked)
}

// LogFeedback forwards labels as they are (labels are not contract
// columns).
func (l *MaskingLog) LogFeedback(ctx context.Context, fb []predlog.Feedback) error {
	return l.Next.LogFeedback(ctx, fb)
}

// ForContract returns the masker of a contract's PII columns in the store
// of db (whose salt keys the hashes), or nil when the contract declares
// none.
func ForContract(ctx context.Context, db *sqlstore.DB, c *validate.Contract) (*Masker, error) {
	return ContractMasker(ctx, c, func(ctx context.Context) ([]byte, error) { return Salt(ctx, db) })
}

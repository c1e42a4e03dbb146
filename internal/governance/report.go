package governance

import (
	"context"
	"fmt"
	"strings"

	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/validate"
)

// SaltError is a store's salt that could not be read for a masker: the
// store's failure, not the contract's.
type SaltError struct{ Err error }

func (e *SaltError) Error() string { return e.Err.Error() }
func (e *SaltError) Unwrap() error { return e.Err }

// ContractMasker returns the masker of a contract's PII columns, or nil
// when it declares none. salt gives the store's salt (Salt, or a team
// server's); it is asked only when a column is hashed, and its error comes
// back as a *SaltError. Any other error is the contract's masks.
func ContractMasker(ctx context.Context, c *validate.Contract, salt func(context.Context) ([]byte, error)) (*Masker, error) {
	masks := c.Masks()
	if len(masks) == 0 {
		return nil, nil
	}
	var s []byte
	for _, m := range masks {
		if m == validate.MaskHash {
			var err error
			if s, err = salt(ctx); err != nil {
				return nil, &SaltError{Err: err}
			}
			break
		}
	}
	return NewMasker(masks, s)
}

// HashFunc returns the hash of a value as the masks show it (Hash), or
// nil when no column is hashed (also for a nil Masker).
func (m *Masker) HashFunc() func(string) string {
	if m == nil {
		return nil
	}
	for _, mk := range m.masks {
		if mk == validate.MaskHash {
			return m.Hash
		}
	}
	return nil
}

// UnmaskedError is a saved profile holding a PII column unmasked: its
// values would reach a report.
type UnmaskedError struct {
	Column string
	Mask   validate.Mask
}

func (e *UnmaskedError) Error() string {
	return fmt.Sprintf("holds the PII column %s unmasked (the contract masks it with %s)", e.Column, e.Mask)
}

// CheckProfile refuses (*UnmaskedError) a saved profile that holds one of
// the masked columns unmasked: a hashed column must be categorical with
// every value a hash, a dropped one absent. A nil Masker accepts any.
func (m *Masker) CheckProfile(p *profile.Profile) error {
	if m == nil {
		return nil
	}
	for _, c := range p.Columns {
		mk, ok := m.masks[c.Name]
		if !ok {
			continue
		}
		masked := mk == validate.MaskHash && c.Numeric == nil && c.Categories != nil
		if masked {
			for _, cc := range c.Categories.Counts {
				if !strings.HasPrefix(cc.Value, "pii:") {
					masked = false
					break
				}
			}
		}
		if !masked {
			return &UnmaskedError{Column: c.Name, Mask: mk}
		}
	}
	return nil
}

package validate

import (
	"errors"
	"fmt"
)

// Classification is a data set version's or a model's governance class.
type Classification string

// The classifications; the empty value is unclassified.
const (
	Public   Classification = "public"
	Internal Classification = "internal"
	PII      Classification = "pii"
)

// ErrClassification marks an unknown classification.
var ErrClassification = errors.New("unknown classification")

// ParseClassification checks a classification name: public, internal or
// pii ("" and "none" clear it).
func ParseClassification(s string) (Classification, error) {
	switch c := Classification(s); c {
	case Public, Internal, PII:
		return c, nil
	case "", "none":
		return "", nil
	}
	return "", fmt.Errorf("classification %q: %w: want public, internal or pii (none to clear)", s, ErrClassification)
}

// Mask is how a PII column of a contract is hidden in the prediction log
// and in reports.
type Mask string

// The masks.
const (
	// MaskHash replaces each value with a keyed hash (HMAC-SHA256 under the
	// store's salt): equal values stay equal, so counts and joins still
	// work, but values cannot be read back or guessed without the salt.
	MaskHash Mask = "hash"
	// MaskDrop removes the column.
	MaskDrop Mask = "drop"
)

// Masks returns the contract's PII columns and their masks.
func (c *Contract) Masks() map[string]Mask {
	m := map[string]Mask{}
	for _, col := range c.Columns {
		if col.PII != "" {
			m[col.Name] = col.PII
		}
	}
	return m
}

package frame

import (
	"fmt"
	"strings"
)

// Kind is the physical type of a column.
type Kind uint8

// Column kinds.
const (
	KindInvalid     Kind = iota
	KindFloat            // float64
	KindInt              // int64
	KindBool             // bool
	KindString           // free text, one Go string per row
	KindCategorical      // dictionary-encoded strings: int32 codes into Levels
	KindTime             // timestamp, stored as Unix nanoseconds (UTC)
)

var kindNames = [...]string{"invalid", "float", "int", "bool", "string", "categorical", "time"}

// String returns the kind's name as used in schemas and JSON output.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Numeric reports whether values of the kind are numbers (float or int).
func (k Kind) Numeric() bool { return k == KindFloat || k == KindInt }

// ParseKind parses a kind name. It accepts the canonical names and common
// aliases (float64, double, int64, integer, boolean, text, category, datetime,
// timestamp).
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "float", "float64", "double", "number", "numeric":
		return KindFloat, nil
	case "int", "int64", "integer":
		return KindInt, nil
	case "bool", "boolean":
		return KindBool, nil
	case "string", "text", "str":
		return KindString, nil
	case "categorical", "category", "cat":
		return KindCategorical, nil
	case "time", "timestamp", "datetime", "date":
		return KindTime, nil
	}
	return KindInvalid, fmt.Errorf("unknown column type %q (want float, int, bool, string, categorical or time)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Role is what a column is for in a learning problem.
type Role uint8

// Column roles. The zero value is RoleFeature.
const (
	RoleFeature Role = iota
	RoleTarget
	RoleID
	RoleTime
	RoleIgnore
)

var roleNames = [...]string{"feature", "target", "id", "time", "ignore"}

// String returns the role's name.
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", r)
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Role(i), nil
		}
	}
	return RoleFeature, fmt.Errorf("unknown column role %q (want feature, target, id, time or ignore)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

package feature

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Num is a float64 that survives JSON exactly: finite values use Go's
// shortest round-trip form, NaN and ±Inf are written as the strings "NaN",
// "+Inf" and "-Inf". Fitted state uses it so that save and load give
// bit-identical transforms.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Num) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*n = Num(math.NaN())
		case "+Inf", "Inf":
			*n = Num(math.Inf(1))
		case "-Inf":
			*n = Num(math.Inf(-1))
		default:
			return fmt.Errorf("decode number: %q is not a number, NaN, +Inf or -Inf", s)
		}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("decode number: %w", err)
	}
	*n = Num(f)
	return nil
}

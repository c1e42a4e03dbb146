package validate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/profile"
)

// ContractVersion is the version of the contract YAML layout.
const ContractVersion = 1

// Contract is a data contract: what a data set must look like. It is
// written and read as YAML; unknown fields are errors.
type Contract struct {
	Version int `yaml:"version" json:"version"`
	// Rows bounds the row count.
	Rows *Bounds `yaml:"rows,omitempty" json:"rows,omitempty"`
	// Columns lists the expected columns.
	Columns []ColumnContract `yaml:"columns" json:"columns"`
	// AllowExtraColumns accepts columns the contract does not list (else
	// they are reported as warnings).
	AllowExtraColumns bool `yaml:"allow_extra_columns,omitempty" json:"allow_extra_columns,omitempty"`
	// Drift overrides drift tests per column when validating against a
	// reference.
	Drift map[string]ProblemOptions `yaml:"drift,omitempty" json:"drift,omitempty"`
}

// Bounds is an inclusive numeric range; a nil end is unbounded.
type Bounds struct {
	Min *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max *float64 `yaml:"max,omitempty" json:"max,omitempty"`
}

// ColumnContract is what one column must satisfy.
type ColumnContract struct {
	Name string `yaml:"name" json:"name"`
	// Type is a frame kind name (float, int, bool, string, categorical,
	// time); int data satisfies float, string and categorical are
	// interchangeable.
	Type string `yaml:"type" json:"type"`
	// Optional columns may be absent.
	Optional bool `yaml:"optional,omitempty" json:"optional,omitempty"`
	// MaxMissingShare bounds the share of missing values (nil: any).
	MaxMissingShare *float64 `yaml:"max_missing_share,omitempty" json:"max_missing_share,omitempty"`
	// Range is the expected value range of a numeric column.
	Range *Bounds `yaml:"range,omitempty" json:"range,omitempty"`
	// Categories lists the allowed values of a categorical column.
	Categories []string `yaml:"categories,omitempty" json:"categories,omitempty"`
	// MaxOutOfRangeShare is the share of values outside Range or Categories
	// tolerated before the check fails (default 0: any such value fails;
	// below it they are counted as out-of-distribution warnings).
	MaxOutOfRangeShare float64 `yaml:"max_out_of_range_share,omitempty" json:"max_out_of_range_share,omitempty"`
	// Unique requires distinct non-missing values.
	Unique bool `yaml:"unique,omitempty" json:"unique,omitempty"`
	// PII marks a column holding personal data and says how it is masked
	// in the prediction log and in reports: hash or drop.
	PII Mask `yaml:"pii,omitempty" json:"pii,omitempty"`
}

// DeriveOptions configures Derive.
type DeriveOptions struct {
	// MissingSlack is added to the reference missing share (default 0.05).
	MissingSlack float64
	// OutOfRangeShare is the tolerated share of out-of-range values and new
	// categories (default 0.01).
	OutOfRangeShare float64
}

// Derive writes a contract that the reference data satisfies: its columns
// and types, observed ranges and categories (up to MaxCategories; larger
// sets are not enforced), missing shares with slack, uniqueness of ID-like
// columns, and at least one row.
func Derive(ref *profile.Profile, opts DeriveOptions) *Contract {
	if opts.MissingSlack == 0 {
		opts.MissingSlack = 0.05
	}
	if opts.OutOfRangeShare == 0 {
		opts.OutOfRangeShare = 0.01
	}
	one := 1.0
	c := &Contract{Version: ContractVersion, Rows: &Bounds{Min: &one}}
	for i := range ref.Columns {
		rc := &ref.Columns[i]
		cc := ColumnContract{Name: rc.Name, Type: rc.Kind.String(), Unique: rc.LikelyID}
		ms := math.Min(1, math.Round((rc.MissingShare+opts.MissingSlack)*1000)/1000)
		if rc.Count == 0 {
			ms = 1
		}
		cc.MaxMissingShare = &ms
		if n := rc.Numeric; n != nil {
			lo, hi := n.Min, n.Max
			cc.Range = &Bounds{Min: &lo, Max: &hi}
			cc.MaxOutOfRangeShare = opts.OutOfRangeShare
		}
		if cat := rc.Categories; cat != nil && cat.Other == 0 && !rc.LikelyID && !rc.DistinctApprox && len(cat.Counts) <= 200 {
			for _, v := range cat.Counts {
				cc.Categories = append(cc.Categories, v.Value)
			}
			cc.MaxOutOfRangeShare = opts.OutOfRangeShare
		}
		c.Columns = append(c.Columns, cc)
	}
	return c
}

// WriteYAML writes the contract as YAML.
func (c *Contract) WriteYAML(w io.Writer) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("contract: write: %w", err)
	}
	return enc.Close()
}

// ParseContract decodes a YAML contract. Unknown fields, bad types and
// invalid values are errors naming the line and field; name labels the
// source in messages.
func ParseContract(data []byte, name string) (*Contract, error) {
	var c Contract
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("contract %s: empty file, want a YAML mapping with version and columns", name)
		}
		return nil, fmt.Errorf("contract %s: %w", name, err)
	}
	// Line numbers for semantic errors.
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	line := func(i int, field string) int { return nodeLine(&root, i, field) }
	if c.Version != ContractVersion {
		return nil, fmt.Errorf("contract %s: field version: got %d, want %d", name, c.Version, ContractVersion)
	}
	if len(c.Columns) == 0 {
		return nil, fmt.Errorf("contract %s: field columns: want at least one column", name)
	}
	seen := map[string]bool{}
	for i, col := range c.Columns {
		switch {
		case col.Name == "":
			return nil, fmt.Errorf("contract %s: line %d: columns[%d]: field name is empty", name, line(i, ""), i)
		case seen[col.Name]:
			return nil, fmt.Errorf("contract %s: line %d: column %q listed twice", name, line(i, "name"), col.Name)
		}
		seen[col.Name] = true
		if _, err := frame.ParseKind(col.Type); err != nil {
			return nil, fmt.Errorf("contract %s: line %d: column %q: field type: %w", name, line(i, "type"), col.Name, err)
		}
		if s := col.MaxMissingShare; s != nil && (*s < 0 || *s > 1) {
			return nil, fmt.Errorf("contract %s: line %d: column %q: field max_missing_share: got %g, want 0..1", name, line(i, "max_missing_share"), col.Name, *s)
		}
		if s := col.MaxOutOfRangeShare; s < 0 || s > 1 {
			return nil, fmt.Errorf("contract %s: line %d: column %q: field max_out_of_range_share: got %g, want 0..1", name, line(i, "max_out_of_range_share"), col.Name, s)
		}
		if col.PII != "" && col.PII != MaskHash && col.PII != MaskDrop {
			return nil, fmt.Errorf("contract %s: line %d: column %q: field pii: got %q, want hash or drop", name, line(i, "pii"), col.Name, col.PII)
		}
		if r := col.Range; r != nil && r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			return nil, fmt.Errorf("contract %s: line %d: column %q: field range: min %g > max %g", name, line(i, "range"), col.Name, *r.Min, *r.Max)
		}
	}
	for col, o := range c.Drift {
		if _, err := ParseMethod(string(o.Method)); err != nil {
			return nil, fmt.Errorf("contract %s: drift.%s: field method: %w", name, col, err)
		}
	}
	return &c, nil
}

// nodeLine finds the line of columns[i].field (or of columns[i]).
func nodeLine(root *yaml.Node, i int, field string) int {
	if root == nil || len(root.Content) == 0 {
		return 0
	}
	doc := root.Content[0]
	for k := 0; k+1 < len(doc.Content); k += 2 {
		if doc.Content[k].Value != "columns" {
			continue
		}
		seq := doc.Content[k+1]
		if i >= len(seq.Content) {
			return seq.Line
		}
		item := seq.Content[i]
		for j := 0; j+1 < len(item.Content); j += 2 {
			if item.Content[j].Value == field {
				return item.Content[j].Line
			}
		}
		return item.Line
	}
	return 0
}

// LoadContract reads a YAML contract file.
func LoadContract(path string) (*Contract, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("contract: %w", err)
	}
	return ParseContract(data, path)
}

// CheckContract checks f against c and returns the findings. The values of
// PII columns (ColumnContract.PII) are withheld from the findings; see
// CheckContractMasked to show them hashed.
func CheckContract(c *Contract, f *frame.Frame) []Finding { return CheckContractMasked(c, f, nil) }

// CheckContractMasked checks f against c as CheckContract does, naming the
// values of a PII column masked with hash by hash(value) (the prediction
// log's mask, so they match it), and withholding them when hash is nil or
// the column's mask is drop. The checks themselves see the raw values.
func CheckContractMasked(c *Contract, f *frame.Frame, hash func(string) string) []Finding {
	var out []Finding
	n := f.NumRows()
	if r := c.Rows; r != nil {
		if r.Min != nil && float64(n) < *r.Min {
			out = append(out, Finding{Check: "row_count", Severity: profile.Error, Message: fmt.Sprintf("%d rows, the contract wants at least %g", n, *r.Min), Value: float64(n)})
		}
		if r.Max != nil && float64(n) > *r.Max {
			out = append(out, Finding{Check: "row_count", Severity: profile.Error, Message: fmt.Sprintf("%d rows, the contract wants at most %g", n, *r.Max), Value: float64(n)})
		}
	}
	listed := map[string]bool{}
	for _, cc := range c.Columns {
		listed[cc.Name] = true
		col, err := f.Column(cc.Name)
		if err != nil {
			if !cc.Optional {
				out = append(out, Finding{Check: "missing_column", Column: cc.Name, Severity: profile.Error, Message: fmt.Sprintf("column %s is missing", cc.Name)})
			}
			continue
		}
		out = append(out, checkColumn(&cc, col, n, hash)...)
	}
	if !c.AllowExtraColumns {
		for _, name := range f.Names() {
			if !listed[name] {
				out = append(out, Finding{Check: "extra_column", Column: name, Severity: profile.Warn, Message: fmt.Sprintf("column %s is not in the contract", name)})
			}
		}
	}
	return out
}

func kindCompatible(want, got frame.Kind) bool {
	switch {
	case want == got:
		return true
	case want == frame.KindFloat && got == frame.KindInt:
		return true
	case (want == frame.KindString || want == frame.KindCategorical) && (got == frame.KindString || got == frame.KindCategorical):
		return true
	}
	return false
}

func checkColumn(cc *ColumnContract, col frame.Column, n int, hash func(string) string) []Finding {
	var out []Finding
	add := func(check string, sev profile.Severity, v float64, format string, a ...any) {
		out = append(out, Finding{Check: check, Column: cc.Name, Severity: sev, Value: v, Message: fmt.Sprintf(format, a...)})
	}
	want, _ := frame.ParseKind(cc.Type)
	if !kindCompatible(want, col.Kind()) {
		// An int column read as float (e.g. because of a missing value) is
		// still numeric: warn and go on.
		if want == frame.KindInt && col.Kind() == frame.KindFloat {
			add("type", profile.Warn, 0, "%s is float, the contract says int", cc.Name)
		} else {
			add("type", profile.Error, 0, "%s is %s, the contract says %s", cc.Name, col.Kind(), want)
			return out
		}
	}
	missing := 0
	get, numeric := numericOf(col)
	for i := 0; i < n; i++ {
		if col.IsNull(i) {
			missing++
		} else if numeric {
			if _, ok := get(i); !ok {
				missing++
			}
		}
	}
	if n > 0 && cc.MaxMissingShare != nil {
		share := float64(missing) / float64(n)
		if share > *cc.MaxMissingShare {
			add("missing_share", profile.Error, share, "%s is missing in %.2f%% of rows, the contract allows %.2f%%", cc.Name, 100*share, 100**cc.MaxMissingShare)
		}
	}
	present := n - missing
	oodCheck := func(check string, bad int, what string) {
		if bad == 0 || present == 0 {
			return
		}
		share := float64(bad) / float64(present)
		sev := profile.Warn
		if share > cc.MaxOutOfRangeShare {
			sev = profile.Error
		}
		add(check, sev, float64(bad), "%s: %d values (%.2f%%) %s; tolerated share %.2f%%", cc.Name, bad, 100*share, what, 100*cc.MaxOutOfRangeShare)
	}
	if r := cc.Range; r != nil && numeric {
		bad := 0
		for i := 0; i < n; i++ {
			if v, ok := get(i); ok && (r.Min != nil && v < *r.Min || r.Max != nil && v > *r.Max) {
				bad++
			}
		}
		oodCheck("out_of_range", bad, fmt.Sprintf("outside [%s, %s]", fmtBound(r.Min), fmtBound(r.Max)))
	}
	if len(cc.Categories) > 0 {
		allowed := map[string]bool{}
		for _, v := range cc.Categories {
			allowed[v] = true
		}
		bad := 0
		newVals := map[string]int{}
		for i := 0; i < n; i++ {
			if !col.IsNull(i) {
				if s := col.Format(i); !allowed[s] {
					bad++
					newVals[s]++
				}
			}
		}
		oodCheck("new_category", bad, fmt.Sprintf("in categories the contract does not allow (%s)", topKeys(maskKeys(cc.PII, newVals, hash), 5)))
	}
	if cc.Unique {
		seen := make(map[string]struct{}, n)
		dup := 0
		for i := 0; i < n; i++ {
			if col.IsNull(i) {
				continue
			}
			s := col.Format(i)
			if _, ok := seen[s]; ok {
				dup++
			}
			seen[s] = struct{}{}
		}
		if dup > 0 {
			add("unique", profile.Error, float64(dup), "%s must be unique: %d repeated values", cc.Name, dup)
		}
	}
	return out
}

func numericOf(col frame.Column) (func(int) (float64, bool), bool) {
	switch col.Kind() {
	case frame.KindFloat, frame.KindInt, frame.KindTime:
		return func(i int) (float64, bool) {
			v, ok := frame.Value(col, i)
			return v, ok && !math.IsNaN(v)
		}, true
	}
	return nil, false
}

func fmtBound(b *float64) string {
	if b == nil {
		return "…"
	}
	return fmt.Sprintf("%g", *b)
}

// maskKeys returns counts of a PII column's values as reports may show
// them: keyed by their hash (mask hash, hash given), or nil when they are
// withheld; the counts of a column without a mask as they are.
func maskKeys(m Mask, counts map[string]int, hash func(string) string) map[string]int {
	switch {
	case m == "":
		return counts
	case m == MaskHash && hash != nil:
		out := make(map[string]int, len(counts))
		for k, n := range counts {
			out[hash(k)] += n
		}
		return out
	}
	return nil
}

package feature

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"unicode"

	"github.com/gyre-ml/gyre/internal/frame"
)

func init() {
	Register(Registration{Type: "interactions", Summary: "pairwise products (and squares, degree 2 polynomial) of chosen numeric columns",
		NewStep: func() Step { return &Interactions{Degree: 2} }, NewFitted: func() Fitted { return &Interactions{} }})
	Register(Registration{Type: "text", Summary: "text columns to token counts over the top-k training vocabulary, or hashed counts",
		NewStep: func() Step { return &Text{Method: "counts", MaxFeatures: 100} }, NewFitted: func() Fitted { return &TextFitted{} }})
}

// Interactions appends products of the chosen numeric columns: every pair
// ("<a>*<b>"), and with Degree 2 and InteractionOnly false also squares
// ("<a>^2"). Missing in either factor gives missing. It learns only the
// column list.
type Interactions struct {
	// Columns to combine (at least two numeric columns; required).
	Columns         []string `json:"columns" yaml:"columns"`
	Degree          int      `json:"degree,omitempty" yaml:"degree"`
	InteractionOnly bool     `json:"interaction_only,omitempty" yaml:"interaction_only"`
}

// Type implements Step and Fitted.
func (s *Interactions) Type() string { return "interactions" }

// Fit implements Step.
func (s *Interactions) Fit(f *frame.Frame, _ string) (Fitted, error) {
	if len(s.Columns) < 1 {
		return nil, fmt.Errorf("interactions: list the columns to combine")
	}
	if s.Degree != 0 && s.Degree != 2 {
		return nil, fmt.Errorf("interactions: degree %d, only 2 is supported", s.Degree)
	}
	if _, err := resolve(f, s.Columns, func(k frame.Kind) bool { return numericKinds(k) || k == frame.KindBool }, "a number"); err != nil {
		return nil, fmt.Errorf("interactions: %w", err)
	}
	out := *s
	out.Degree = 2
	return &out, nil
}

// Transform implements Fitted.
func (s *Interactions) Transform(f *frame.Frame) (*frame.Frame, error) {
	vals := make([][]float64, len(s.Columns))
	for j, n := range s.Columns {
		c, err := need(f, n)
		if err != nil {
			return nil, fmt.Errorf("interactions: %w", err)
		}
		if vals[j], err = floats(c); err != nil {
			return nil, fmt.Errorf("interactions: %w: %w", err, ErrSchema)
		}
	}
	var extra []frame.Column
	for a := range s.Columns {
		for b := a; b < len(s.Columns); b++ {
			name := s.Columns[a] + "*" + s.Columns[b]
			if a == b {
				if s.InteractionOnly {
					continue
				}
				name = s.Columns[a] + "^2"
			}
			v := make([]float64, f.NumRows())
			for i := range v {
				v[i] = vals[a][i] * vals[b][i]
			}
			extra = append(extra, floatColumn(name, v))
		}
	}
	return appendCols(f, extra)
}

// Text turns text columns into token counts. Tokens are runs of letters and
// digits, lower-cased. Method counts (default) keeps the MaxFeatures most
// frequent training tokens (by document frequency, ties by token) as columns
// "<col>:<token>"; method hashing counts tokens into NFeatures buckets
// "<col>#<k>" by FNV-1a hash, with no vocabulary. The text column is replaced.
type Text struct {
	Columns     []string `json:"columns,omitempty" yaml:"columns"`
	Method      string   `json:"method,omitempty" yaml:"method"`
	MaxFeatures int      `json:"max_features,omitempty" yaml:"max_features"`
	NFeatures   int      `json:"n_features,omitempty" yaml:"n_features"`
}

// Type implements Step.
func (s *Text) Type() string { return "text" }

// TextColumn is the fitted vocabulary of one column (empty when hashing).
type TextColumn struct {
	Name       string   `json:"name"`
	Vocabulary []string `json:"vocabulary,omitempty"`
}

// TextFitted is a fitted Text.
type TextFitted struct {
	Method    string       `json:"method"`
	NFeatures int          `json:"n_features,omitempty"`
	Columns   []TextColumn `json:"columns"`
}

// Type implements Fitted.
func (s *TextFitted) Type() string { return "text" }

func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Fit implements Step.
func (s *Text) Fit(f *frame.Frame, _ string) (Fitted, error) {
	method := cmp.Or(s.Method, "counts")
	if method != "counts" && method != "hashing" {
		return nil, fmt.Errorf("text: method %q, want counts or hashing", s.Method)
	}
	names, err := resolve(f, s.Columns, textKinds, "text")
	if err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	out := &TextFitted{Method: method, NFeatures: s.NFeatures}
	if method == "hashing" && out.NFeatures <= 0 {
		out.NFeatures = 256
	}
	k := s.MaxFeatures
	if k <= 0 {
		k = 100
	}
	for _, n := range names {
		tc := TextColumn{Name: n}
		if method == "counts" {
			c, _ := f.Column(n)
			df := map[string]int{}
			for l, cnt := range levelCounts(c) {
				seen := map[string]bool{}
				for _, tok := range tokens(l) {
					if !seen[tok] {
						seen[tok] = true
						df[tok] += cnt
					}
				}
			}
			voc := byFrequency(df)
			if len(voc) > k {
				voc = voc[:k]
			}
			sort.Strings(voc)
			tc.Vocabulary = voc
		}
		out.Columns = append(out.Columns, tc)
	}
	return out, nil
}

// Transform implements Fitted. Missing text gives zero counts.
func (s *TextFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	repl := map[string][]frame.Column{}
	for _, tc := range s.Columns {
		c, err := need(f, tc.Name)
		if err != nil {
			return nil, fmt.Errorf("text: %w", err)
		}
		codes, levels := levelCodes(c)
		width := len(tc.Vocabulary)
		names := make([]string, width)
		for k, tok := range tc.Vocabulary {
			names[k] = tc.Name + ":" + tok
		}
		pos := map[string]int{}
		for k, tok := range tc.Vocabulary {
			pos[tok] = k
		}
		if s.Method == "hashing" {
			width = s.NFeatures
			names = make([]string, width)
			for k := range names {
				names[k] = fmt.Sprintf("%s#%d", tc.Name, k)
			}
		}
		// Token counts per distinct level, then per row.
		perLevel := make([]map[int]float64, len(levels))
		for l, text := range levels {
			m := map[int]float64{}
			for _, tok := range tokens(text) {
				if s.Method == "hashing" {
					h := fnv.New32a()
					h.Write([]byte(tok))
					m[int(h.Sum32()%uint32(width))]++
				} else if k, ok := pos[tok]; ok {
					m[k]++
				}
			}
			perLevel[l] = m
		}
		vs := make([][]float64, width)
		for k := range vs {
			vs[k] = make([]float64, len(codes))
		}
		for i, code := range codes {
			if code >= 0 {
				for k, v := range perLevel[code] {
					vs[k][i] = v
				}
			}
		}
		cols := make([]frame.Column, width)
		for k := range cols {
			cols[k] = frame.NewFloat(names[k], vs[k])
		}
		repl[tc.Name] = cols
	}
	return rebuild(f, repl)
}

package parquetio

import (
	"encoding/json"

	"github.com/gyre-ml/gyre/internal/frame"
)

// MetadataKey is the Parquet key-value metadata entry in which WriteFile
// records the frame's column kinds, roles and categorical levels.
const MetadataKey = "gyre.schema"

// MaxLevels is the largest number of distinct values a text column from a
// foreign Parquet file may have and still be read as categorical.
const MaxLevels = 1000

// fileMeta is the JSON document stored under MetadataKey.
type fileMeta struct {
	Version int          `json:"version"`
	Columns []metaColumn `json:"columns"`
}

type metaColumn struct {
	Name   string     `json:"name"`
	Kind   frame.Kind `json:"type"`
	Role   frame.Role `json:"role"`
	Levels []string   `json:"levels,omitempty"`
}

func encodeMeta(f *frame.Frame) (string, error) {
	m := fileMeta{Version: 1, Columns: make([]metaColumn, f.NumCols())}
	for i, c := range f.Columns() {
		m.Columns[i] = metaColumn{Name: c.Name(), Kind: c.Kind(), Role: f.Role(i)}
		if cat, ok := c.(*frame.Categorical); ok {
			m.Columns[i].Levels = cat.Levels
			if m.Columns[i].Levels == nil {
				m.Columns[i].Levels = []string{}
			}
		}
	}
	return encodeFileMeta(m)
}

func encodeFileMeta(m fileMeta) (string, error) {
	b, err := json.Marshal(m)
	return string(b), err
}

// decodeMeta parses the metadata entry; a missing, unreadable or future
// version entry yields nil, so the file is read as a foreign one.
func decodeMeta(s string, ok bool) map[string]*metaColumn {
	if !ok {
		return nil
	}
	var m fileMeta
	if err := json.Unmarshal([]byte(s), &m); err != nil || m.Version != 1 {
		return nil
	}
	out := make(map[string]*metaColumn, len(m.Columns))
	for i := range m.Columns {
		out[m.Columns[i].Name] = &m.Columns[i]
	}
	return out
}

// categorical reports whether a foreign text column with the given number of
// distinct and present values should be read as categorical.
func categorical(distinct, present int) bool {
	return distinct <= MaxLevels && distinct*2 <= present
}

package profile

import (
	"encoding/csv"
	"os"
	"strconv"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// readCSV loads a CSV with a header into a frame: int, float or categorical
// columns, empty cells missing.
func readCSV(t testing.TB, path string) *frame.Frame {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Skipf("dataset not available: %v", err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return frameOf(t, recs[0], recs[1:])
}

func frameOf(t testing.TB, header []string, rows [][]string) *frame.Frame {
	var cols []frame.Column
	for j, name := range header {
		isInt, isFloat := true, true
		for _, r := range rows {
			if r[j] == "" {
				continue
			}
			if _, err := strconv.ParseInt(r[j], 10, 64); err != nil {
				isInt = false
			}
			if _, err := strconv.ParseFloat(r[j], 64); err != nil {
				isFloat = false
			}
		}
		valid := frame.NewValidity(len(rows))
		hasMissing := false
		switch {
		case isInt:
			v := make([]int64, len(rows))
			for i, r := range rows {
				if r[j] == "" {
					valid.SetNull(i)
					hasMissing = true
					continue
				}
				v[i], _ = strconv.ParseInt(r[j], 10, 64)
			}
			c := frame.NewInt(name, v)
			if hasMissing {
				c.Valid = valid
			}
			cols = append(cols, c)
		case isFloat:
			v := make([]float64, len(rows))
			for i, r := range rows {
				if r[j] == "" {
					valid.SetNull(i)
					hasMissing = true
					continue
				}
				v[i], _ = strconv.ParseFloat(r[j], 64)
			}
			c := frame.NewFloat(name, v)
			if hasMissing {
				c.Valid = valid
			}
			cols = append(cols, c)
		default:
			v := make([]string, len(rows))
			miss := make([]bool, len(rows))
			for i, r := range rows {
				v[i], miss[i] = r[j], r[j] == ""
			}
			cols = append(cols, frame.NewCategorical(name, v, miss))
		}
	}
	f, err := frame.New(cols...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

package track

import (
	"strconv"
)

// Comparison lines up the parameters and metrics of several runs.
type Comparison struct {
	RunIDs  []string        `json:"run_ids"`
	Params  []ComparisonRow `json:"params"`
	Metrics []ComparisonRow `json:"metrics"`
}

// ComparisonRow is one key across runs; a run without the key has "".
type ComparisonRow struct {
	Key     string   `json:"key"`
	Values  []string `json:"values"`
	Differs bool     `json:"differs"`
	// Best is the index of the run with the highest value (metrics only;
	// -1 when no run has a number).
	Best int `json:"best"`
}

// Compare lines up runs' parameters and latest metrics, keys sorted.
func Compare(runs []RunInfo) Comparison {
	c := Comparison{}
	pk, mk := map[string]bool{}, map[string]bool{}
	for _, r := range runs {
		c.RunIDs = append(c.RunIDs, r.ID)
		for k := range r.Params {
			pk[k] = true
		}
		for k := range r.Metrics {
			mk[k] = true
		}
	}
	for _, k := range sortedKeys(pk) {
		row := ComparisonRow{Key: k, Best: -1}
		for i, r := range runs {
			v, ok := r.Params[k]
			if !ok {
				v = ""
			}
			row.Values = append(row.Values, v)
			if i > 0 && v != row.Values[0] {
				row.Differs = true
			}
		}
		c.Params = append(c.Params, row)
	}
	for _, k := range sortedKeys(mk) {
		row := ComparisonRow{Key: k, Best: -1}
		var best float64
		for i, r := range runs {
			v, ok := r.Metrics[k]
			s := ""
			if ok {
				s = strconv.FormatFloat(v, 'g', 6, 64)
				if v == v && (row.Best < 0 || v > best) {
					row.Best, best = i, v
				}
			}
			row.Values = append(row.Values, s)
			if i > 0 && s != row.Values[0] {
				row.Differs = true
			}
		}
		c.Metrics = append(c.Metrics, row)
	}
	return c
}

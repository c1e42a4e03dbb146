package validate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseColumnMethod parses a per-column drift test COLUMN=METHOD[:THRESHOLD]
// (METHOD a ParseMethod name, THRESHOLD a positive number) or COLUMN=skip.
func ParseColumnMethod(s string) (string, ProblemOptions, error) {
	col, spec, ok := strings.Cut(s, "=")
	if !ok || col == "" || spec == "" {
		return "", ProblemOptions{}, errors.New("want COLUMN=METHOD[:THRESHOLD]")
	}
	if spec == "skip" {
		return col, ProblemOptions{Skip: true}, nil
	}
	name, thr, hasThr := strings.Cut(spec, ":")
	m, err := ParseMethod(name)
	if err != nil {
		return "", ProblemOptions{}, err
	}
	o := ProblemOptions{Method: m}
	if hasThr {
		v, err := strconv.ParseFloat(thr, 64)
		if err != nil || v <= 0 {
			return "", ProblemOptions{}, fmt.Errorf("threshold %q: want a positive number", thr)
		}
		o.Threshold = v
	}
	return col, o, nil
}

// Add appends findings (a contract's, to a drift report) and recounts the
// severities and the verdict; the findings keep their order.
func (r *Report) Add(fs ...Finding) {
	r.Findings = append(r.Findings, fs...)
	r.recount()
}

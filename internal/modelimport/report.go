package modelimport

import (
	"fmt"
	"io"
	"strings"
)

// Report is what an import reports (`gyre models import --json`).
type Report struct {
	File       string   `json:"file"`
	Format     string   `json:"format"`
	Source     string   `json:"source,omitempty"`
	Objective  string   `json:"objective"`
	Task       string   `json:"task"`
	Trees      int      `json:"trees"`
	Features   []string `json:"features"`
	Classes    []string `json:"classes,omitempty"`
	Out        string   `json:"out"`
	Reference  string   `json:"reference,omitempty"`
	Registered string   `json:"registered,omitempty"`
	Notes      []string `json:"notes,omitempty"`
}

// Report describes the import of file saved to out, with the drift
// reference profiled from reference (when given).
func (res *Result) Report(file, out, reference string) *Report {
	b := res.Bundle
	r := &Report{File: file, Format: res.Format, Source: res.Source, Objective: res.Objective,
		Task: b.Manifest.Task.String(), Trees: res.Trees, Classes: b.Manifest.Classes, Out: out,
		Reference: reference, Notes: res.Notes}
	for _, f := range b.Manifest.Input.Fields {
		r.Features = append(r.Features, f.Name)
	}
	return r
}

// WriteText writes the report: the import, the input columns, the
// classes, the registered version and the notes.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "imported %s (%s %s, %s, %d trees) to %s\n", r.File, r.Format, r.Objective, r.Task, r.Trees, r.Out)
	fmt.Fprintf(w, "input:   %s\n", strings.Join(r.Features, ", "))
	if r.Classes != nil {
		fmt.Fprintf(w, "classes: %s\n", strings.Join(r.Classes, ", "))
	}
	if r.Registered != "" {
		fmt.Fprintf(w, "registered %s\n", r.Registered)
	}
	var err error
	for _, n := range r.Notes {
		_, err = fmt.Fprintf(w, "note:    %s\n", n)
	}
	return err
}

package feature

import (
	"errors"
	"fmt"

	"github.com/gyre-ml/gyre/internal/frame"
)

// SplitBy names the column a frame's split follows; at most one is set.
// With none the split is random.
type SplitBy struct {
	// Stratify keeps this column's class proportions in every part.
	Stratify string
	// Group keeps the rows sharing this column's value in one part.
	Group string
	// Time orders the parts by this time or number column: earliest rows
	// train, latest test.
	Time string
}

// ErrSplitBy is what a SplitByError is.
var ErrSplitBy = errors.New("split column")

// SplitByError is a split column that is not in the frame, is not a time
// or number column (Time), or is missing in a row (Time; Row counts from 1).
// By is "stratify", "group" or "time".
type SplitByError struct {
	By, Column string
	Row        int
	Err        error
}

func (e *SplitByError) Error() string { return fmt.Sprintf("%s %s: %v", e.By, e.Column, e.Err) }

// Unwrap returns the cause (frame.ErrNoColumn for an unknown column).
func (e *SplitByError) Unwrap() error { return e.Err }

// Is makes every SplitByError match ErrSplitBy.
func (e *SplitByError) Is(target error) bool { return target == ErrSplitBy }

// SplitFrame partitions f's rows with opt's fractions and seed, following
// by's column (its codes, groups or times replace opt's), and says how:
// "random", "stratified by C", "grouped by C" or "ordered by C".
func SplitFrame(f *frame.Frame, opt SplitOptions, by SplitBy) (Partition, string, error) {
	method := "random"
	col := func(kind, name string) (frame.Column, error) {
		c, err := f.Column(name)
		if err != nil {
			return nil, &SplitByError{By: kind, Column: name, Err: err}
		}
		return c, nil
	}
	switch {
	case by.Stratify != "":
		c, err := col("stratify", by.Stratify)
		if err != nil {
			return Partition{}, "", err
		}
		opt.Strata, method = Codes(c), "stratified by "+by.Stratify
	case by.Group != "":
		c, err := col("group", by.Group)
		if err != nil {
			return Partition{}, "", err
		}
		opt.Groups, method = Codes(c), "grouped by "+by.Group
	case by.Time != "":
		c, err := col("time", by.Time)
		if err != nil {
			return Partition{}, "", err
		}
		opt.Times = make([]float64, c.Len())
		for i := range opt.Times {
			v, ok := frame.Value(c, i)
			if !ok {
				if c.IsNull(i) {
					return Partition{}, "", &SplitByError{By: "time", Column: by.Time, Row: i + 1, Err: fmt.Errorf("missing in row %d; every row needs a time", i+1)}
				}
				return Partition{}, "", &SplitByError{By: "time", Column: by.Time, Err: fmt.Errorf("is %s; want a time or number column", c.Kind())}
			}
			opt.Times[i] = v
		}
		method = "ordered by " + by.Time
	}
	p, err := Split(f.NumRows(), opt)
	return p, method, err
}

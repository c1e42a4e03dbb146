package feature

import (
	"math"
	"reflect"
	"sort"
	"testing"
)

func checkPartition(t *testing.T, n int, parts ...[]int) {
	t.Helper()
	seen := make([]bool, n)
	for _, p := range parts {
		if !sort.IntsAreSorted(p) {
			t.Fatalf("part not sorted")
		}
		for _, i := range p {
			if seen[i] {
				t.Fatalf("row %d in two parts", i)
			}
			seen[i] = true
		}
	}
	for i, s := range seen {
		if !s {
			t.Fatalf("row %d in no part", i)
		}
	}
}

func TestSplit(t *testing.T) {
	n := 1000
	strata := make([]int, n)
	groups := make([]int, n)
	times := make([]float64, n)
	for i := range strata {
		strata[i] = 0
		if i%5 == 0 {
			strata[i] = 1
		}
		groups[i] = i / 10
		times[i] = float64(n - i)
	}
	tests := []struct {
		name string
		opt  SplitOptions
	}{
		{"random default", SplitOptions{Seed: 1}},
		{"stratified", SplitOptions{Train: 0.6, Valid: 0.2, Test: 0.2, Strata: strata, Seed: 2}},
		{"group", SplitOptions{Train: 0.7, Valid: 0.15, Test: 0.15, Groups: groups, Seed: 3}},
		{"time", SplitOptions{Train: 0.8, Test: 0.2, Times: times}},
	}
	for _, tt := range tests {
		p, err := Split(n, tt.opt)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		checkPartition(t, n, p.Train, p.Valid, p.Test)
		q, _ := Split(n, tt.opt)
		if !reflect.DeepEqual(p, q) {
			t.Errorf("%s: not deterministic", tt.name)
		}
		train := tt.opt.Train
		if train == 0 {
			train = 0.7
		}
		if math.Abs(float64(len(p.Train))-train*float64(n)) > 10 {
			t.Errorf("%s: %d training rows, want about %g", tt.name, len(p.Train), train*float64(n))
		}
		switch tt.name {
		case "stratified":
			ones := 0
			for _, i := range p.Test {
				ones += strata[i]
			}
			if ones != 40 {
				t.Errorf("stratified test part has %d of class 1, want 40", ones)
			}
		case "group":
			where := map[int]int{}
			for k, part := range [][]int{p.Train, p.Valid, p.Test} {
				for _, i := range part {
					if w, ok := where[groups[i]]; ok && w != k {
						t.Fatalf("group %d split across parts", groups[i])
					}
					where[groups[i]] = k
				}
			}
		case "time":
			for _, i := range p.Test {
				for _, j := range p.Train[:10] {
					if times[i] < times[j] {
						t.Fatalf("test row %d earlier than train row %d", i, j)
					}
				}
			}
		}
	}
	if _, err := Split(10, SplitOptions{Train: 0.5, Valid: 0.1}); err == nil {
		t.Error("fractions not summing to 1: no error")
	}
	if _, err := Split(3, SplitOptions{Strata: []int{0, 1, 0}, Groups: []int{0, 1, 2}}); err == nil {
		t.Error("strata and groups together: no error")
	}
}

func TestKFolds(t *testing.T) {
	n := 103
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 3
	}
	fs, err := KFold(n, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	var valid []int
	for _, f := range fs {
		checkPartition(t, n, f.Train, f.Valid)
		valid = append(valid, f.Valid...)
		if len(f.Valid) < 20 || len(f.Valid) > 21 {
			t.Errorf("fold size %d", len(f.Valid))
		}
	}
	sort.Ints(valid)
	checkPartition(t, n, valid)
	sf, err := StratifiedKFold(labels, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sf {
		c := 0
		for _, i := range f.Valid {
			if labels[i] == 0 {
				c++
			}
		}
		if c < 6 || c > 8 {
			t.Errorf("stratified fold holds %d of class 0", c)
		}
	}
	groups := make([]int, n)
	for i := range groups {
		groups[i] = i / 7
	}
	gf, err := GroupKFold(groups, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range gf {
		in := map[int]bool{}
		for _, i := range f.Valid {
			in[groups[i]] = true
		}
		for _, i := range f.Train {
			if in[groups[i]] {
				t.Fatalf("group %d on both sides", groups[i])
			}
		}
	}
	rf, err := RepeatedKFold(n, 5, 3, 1)
	if err != nil || len(rf) != 15 || reflect.DeepEqual(rf[0], rf[5]) {
		t.Errorf("repeated k-fold: %d folds, %v", len(rf), err)
	}
	if _, err := KFold(3, 5, 1); err == nil {
		t.Error("more folds than rows: no error")
	}
}

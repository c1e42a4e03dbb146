package gbdt

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

// A model rebuilt by FromTrees from its own ExportTrees, with every tree's
// nodes stored in reverse order and trees grouped by output, scores,
// explains and ranks features as the original.
func TestFromTreesRoundTrip(t *testing.T) {
	for _, task := range []learn.Task{learn.Regression, learn.Binary, learn.Multiclass} {
		t.Run(task.String(), func(t *testing.T) {
			d := learntest.Toy(task, 400, 5)
			l := New()
			l.NumTrees = 12
			lm, err := l.Fit(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			m := AsModel(lm)
			trees := m.ExportTrees()
			for ti := range trees {
				trees[ti] = reversed(trees[ti])
			}
			// Outputs given class by class, not round by round.
			slices.SortStableFunc(trees, func(a, b ExportedTree) int { return a.Output - b.Output })
			got, err := FromTrees(ModelSpec{Task: m.Task(), Objective: m.Objective(), Classes: m.Classes(),
				Features: m.Features(), Base: m.BaseScore(), Trees: trees})
			if err != nil {
				t.Fatal(err)
			}
			r1, _ := m.Raw(d.X)
			r2, _ := got.Raw(d.X)
			if !slices.Equal(r1, r2) {
				t.Fatal("rebuilt model's raw scores differ")
			}
			e1, _ := m.Explain(d.X)
			e2, _ := got.Explain(d.X)
			for i := range e1 {
				if math.Abs(e1[i]-e2[i]) > 1e-12 {
					t.Fatalf("contribution %d: %v, original %v", i, e2[i], e1[i])
				}
			}
			i1, i2 := m.Importance(), got.Importance()
			for j := range i1 {
				if math.Abs(i1[j]-i2[j]) > 1e-12 {
					t.Fatalf("importance %d: %v, original %v", j, i2[j], i1[j])
				}
			}
		})
	}
}

// reversed stores a tree's internal nodes last to first.
func reversed(e ExportedTree) ExportedTree {
	n := len(e.Nodes)
	if n == 0 {
		return e
	}
	re := func(c int) int {
		if c < 0 {
			return c
		}
		if c == 0 {
			return 0
		}
		return n - c
	}
	out := e
	out.Nodes = make([]TreeNode, n)
	// Old node i goes to position n-i, except the root, which stays at 0.
	for i, nd := range e.Nodes {
		nd.Left, nd.Right = re(nd.Left), re(nd.Right)
		out.Nodes[re(i)] = nd
	}
	return out
}

func TestFromTreesRefusesBadSpecs(t *testing.T) {
	feats := []learn.Feature{{Name: "a"}, {Name: "b"}}
	split := func(nodes []TreeNode, leaves int) ExportedTree {
		return ExportedTree{Nodes: nodes, Leaves: make([]float64, leaves)}
	}
	cases := []struct {
		name string
		spec ModelSpec
	}{
		{"unknown objective", ModelSpec{Task: learn.Regression, Objective: "gamma", Features: feats, Base: []float64{0}}},
		{"binary without 2 classes", ModelSpec{Task: learn.Binary, Objective: ObjBinary, Classes: []string{"a"}, Features: feats, Base: []float64{0}}},
		{"base count", ModelSpec{Task: learn.Regression, Objective: ObjSquared, Features: feats, Base: []float64{0, 1}}},
		{"output out of range", ModelSpec{Task: learn.Regression, Objective: ObjSquared, Features: feats, Base: []float64{0},
			Trees: []ExportedTree{{Output: 1, Leaves: []float64{1}}}}},
		{"feature out of range", ModelSpec{Task: learn.Regression, Objective: ObjSquared, Features: feats, Base: []float64{0},
			Trees: []ExportedTree{split([]TreeNode{{Feature: 2, Left: ^0, Right: ^1}}, 2)}}},
		{"cycle", ModelSpec{Task: learn.Regression, Objective: ObjSquared, Features: feats, Base: []float64{0},
			Trees: []ExportedTree{split([]TreeNode{{Feature: 0, Left: 1, Right: ^0}, {Feature: 1, Left: 0, Right: ^1}}, 2)}}},
		{"shared leaf", ModelSpec{Task: learn.Regression, Objective: ObjSquared, Features: feats, Base: []float64{0},
			Trees: []ExportedTree{split([]TreeNode{{Feature: 0, Left: ^0, Right: ^0}}, 2)}}},
		{"unreached node", ModelSpec{Task: learn.Regression, Objective: ObjSquared, Features: feats, Base: []float64{0},
			Trees: []ExportedTree{split([]TreeNode{{Feature: 0, Left: ^0, Right: ^1}, {Feature: 1, Left: ^2, Right: ^3}}, 4)}}},
		{"negative code on numeric", ModelSpec{Task: learn.Regression, Objective: ObjSquared, Features: feats, Base: []float64{0},
			Trees: []ExportedTree{split([]TreeNode{{Feature: 0, Categorical: true, LeftCodes: []int{-1}, Left: ^0, Right: ^1}}, 2)}}},
		{"huge code on numeric", ModelSpec{Task: learn.Regression, Objective: ObjSquared, Features: feats, Base: []float64{0},
			Trees: []ExportedTree{split([]TreeNode{{Feature: 0, Categorical: true, LeftCodes: []int{1 << 24}, Left: ^0, Right: ^1}}, 2)}}},
		{"two leaves no nodes", ModelSpec{Task: learn.Regression, Objective: ObjSquared, Features: feats, Base: []float64{0},
			Trees: []ExportedTree{{Leaves: []float64{1, 2}}}}},
	}
	for _, c := range cases {
		if _, err := FromTrees(c.spec); !errors.Is(err, ErrSpec) {
			t.Errorf("%s: got %v, want ErrSpec", c.name, err)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

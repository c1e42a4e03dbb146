package gbdt

// TreeNode is a read-only copy of one internal node of a fitted tree, for
// model exporters (ONNX). A row goes left when:
//
//   - numeric split: x ≤ Threshold; a NaN x goes left iff DefaultLeft;
//   - categorical split: x is a category code ≥ 0 listed in LeftCodes;
//     NaN or negative x goes left iff DefaultLeft; any other value
//     (including codes not listed) goes right.
//
// Left and Right are internal node indices when ≥ 0, and ^leaf (a leaf
// index into ExportedTree.Leaves) when < 0.
type TreeNode struct {
	Feature     int
	Threshold   float64
	Categorical bool
	LeftCodes   []int
	DefaultLeft bool
	Left, Right int
	// Gain is the split's loss reduction (importance) and Cover the
	// training weight (rows, or hessian sum for imported models) reaching
	// the node (TreeSHAP).
	Gain, Cover float64
}

// ExportedTree is a read-only copy of one fitted tree. Nodes[0] is the root
// when Nodes is non-empty; a tree without nodes is the single leaf
// Leaves[0]. Leaf values include the learning rate. Output is the raw score
// (class, for softmax) the tree adds to.
type ExportedTree struct {
	Output int
	Nodes  []TreeNode
	Leaves []float64
	// LeafCover is the training weight reaching each leaf (TreeSHAP).
	LeafCover []float64
}

// ExportTrees returns a copy of the model's trees in prediction order. The
// raw score of output c for a row is BaseScore()[c] plus the leaf values of
// the trees with Output c; Predict and Probabilities then apply the
// objective's link (identity, exp for poisson, logistic for binary, softmax
// for multiclass).
func (m *Model) ExportTrees() []ExportedTree {
	out := make([]ExportedTree, len(m.trees))
	for ti, t := range m.trees {
		e := ExportedTree{Output: ti % m.k, Leaves: append([]float64(nil), t.Value...), LeafCover: append([]float64(nil), t.LeafCover...)}
		e.Nodes = make([]TreeNode, len(t.Feature))
		for i := range t.Feature {
			n := TreeNode{
				Feature:     int(t.Feature[i]),
				Threshold:   t.Threshold[i],
				Categorical: t.Flags[i]&flagCategorical != 0,
				DefaultLeft: t.Flags[i]&flagDefaultLeft != 0,
				Left:        int(t.Left[i]),
				Right:       int(t.Right[i]),
				Gain:        t.Gain[i],
				Cover:       t.Cover[i],
			}
			if n.Categorical {
				words := t.CatBits[t.CatStart[i] : t.CatStart[i]+t.CatLen[i]]
				for w, bits := range words {
					for b := range 32 {
						if bits&(1<<uint(b)) != 0 {
							n.LeftCodes = append(n.LeftCodes, w*32+b)
						}
					}
				}
			}
			e.Nodes[i] = n
		}
		out[ti] = e
	}
	return out
}

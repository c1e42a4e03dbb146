// Package all registers every built-in learner: import it for its side
// effects where learners are looked up by name.
package all

import (
	_ "github.com/gyre-ml/gyre/internal/learn/tree" // decision_tree
)

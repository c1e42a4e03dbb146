package automl

import (
	"fmt"
	"math"
	"strconv"
)

// Domain is the range of one hyperparameter in a search space. Searches run in
// a normalised unit cube; a Domain maps a coordinate in [0, 1] to a value.
type Domain struct {
	// Param is the learner's hyperparameter name (its `param` tag).
	Param string
	// Lo and Hi bound numeric domains (inclusive).
	Lo, Hi float64
	// Log searches on a log scale (Lo must be > 0).
	Log bool
	// Int rounds to an integer.
	Int bool
	// Choices, when set, makes the domain categorical: the coordinate picks
	// one entry. Lo, Hi, Log and Int are ignored.
	Choices []string
	// Init is the low-cost starting value (FLAML's low_cost_init_value):
	// the cheapest configuration is tried first.
	Init float64
	// InitChoice is the starting choice for categorical domains.
	InitChoice string
	// CostExp models how the learner's fit cost grows with this parameter:
	// cost ∝ (value/Init)^CostExp (0: no effect). Used to predict whether a
	// configuration fits in the time left, and as the cost model of the
	// deterministic trial-count mode.
	CostExp float64
	// GridPoints is the number of points of a numeric domain in grid search
	// (default 5).
	GridPoints int
}

// value maps a unit coordinate to the hyperparameter's text value.
func (d Domain) value(u float64) string {
	u = math.Max(0, math.Min(1, u))
	if len(d.Choices) > 0 {
		i := int(u * float64(len(d.Choices)))
		if i == len(d.Choices) {
			i--
		}
		return d.Choices[i]
	}
	var v float64
	if d.Log {
		v = math.Exp(math.Log(d.Lo) + u*(math.Log(d.Hi)-math.Log(d.Lo)))
	} else {
		v = d.Lo + u*(d.Hi-d.Lo)
	}
	if d.Int {
		return strconv.FormatInt(int64(math.Round(v)), 10)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// unit maps a starting value to its unit coordinate.
func (d Domain) unit() float64 {
	if len(d.Choices) > 0 {
		for i, c := range d.Choices {
			if c == d.InitChoice {
				return (float64(i) + 0.5) / float64(len(d.Choices))
			}
		}
		return 0.5 / float64(len(d.Choices))
	}
	if d.Log {
		return (math.Log(d.Init) - math.Log(d.Lo)) / (math.Log(d.Hi) - math.Log(d.Lo))
	}
	return (d.Init - d.Lo) / (d.Hi - d.Lo)
}

// Space is the search space of one learner.
type Space struct {
	// Learner is the registered learner name.
	Learner string
	// Family names the feature pipeline the learner needs ("trees",
	// "linear", "neural", "distance").
	Family string
	// Domains are the searched hyperparameters.
	Domains []Domain
	// Fixed hyperparameters set on every trial (e.g. a seed-independent
	// thread count).
	Fixed map[string]string
	// CostFactor is the learner's cost at its starting point relative to the
	// cheapest learner (FLAML's initial cost ratio), used to bring untried
	// learners in by relative cost.
	CostFactor float64
	// Tasks limits the space to these tasks (nil: all the learner supports).
	Tasks []string
	// Defaults are known-good configurations (parameter → value; unnamed
	// parameters keep their Init) tried right after the low-cost start,
	// budget permitting: the learner's library defaults and portfolio
	// points. Local search continues from whichever scores best, so a
	// short budget does not have to climb from the cheapest corner.
	Defaults []map[string]float64
}

// pointOf maps a configuration (parameter → value) to the unit cube.
func (s Space) pointOf(cfg map[string]float64) []float64 {
	x := s.initPoint()
	for i, d := range s.Domains {
		v, ok := cfg[d.Param]
		if !ok || len(d.Choices) > 0 {
			continue
		}
		dd := d
		dd.Init = math.Max(d.Lo, math.Min(d.Hi, v))
		x[i] = math.Max(0, math.Min(1, dd.unit()))
	}
	return x
}

// Config is one point of a space: hyperparameter name → text value.
type Config map[string]string

// relCost is a configuration's predicted cost relative to the space's
// low-cost start.
func (s Space) relCost(c Config) float64 {
	r := 1.0
	for _, d := range s.Domains {
		if d.CostExp == 0 || len(d.Choices) > 0 || d.Init <= 0 {
			continue
		}
		v, err := strconv.ParseFloat(c[d.Param], 64)
		if err != nil || v <= 0 {
			continue
		}
		r *= math.Pow(v/d.Init, d.CostExp)
	}
	return r
}

// configAt maps a unit-cube point to a configuration.
func (s Space) configAt(x []float64) Config {
	c := Config{}
	for k, v := range s.Fixed {
		c[k] = v
	}
	for i, d := range s.Domains {
		c[d.Param] = d.value(x[i])
	}
	return c
}

// initPoint returns the low-cost starting point in the unit cube.
func (s Space) initPoint() []float64 {
	x := make([]float64, len(s.Domains))
	for i, d := range s.Domains {
		x[i] = math.Max(0, math.Min(1, d.unit()))
	}
	return x
}

// validate checks the space's domains.
func (s Space) validate() error {
	for _, d := range s.Domains {
		if len(d.Choices) > 0 {
			continue
		}
		if !(d.Lo < d.Hi) || (d.Log && d.Lo <= 0) || d.Init < d.Lo || d.Init > d.Hi {
			return fmt.Errorf("search space %s: domain %s [%g, %g] init %g is invalid", s.Learner, d.Param, d.Lo, d.Hi, d.Init)
		}
	}
	return nil
}

// key renders a configuration canonically (sorted), to detect repeats.
func (c Config) key() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sortStrings(keys)
	s := ""
	for _, k := range keys {
		s += k + "=" + c[k] + ";"
	}
	return s
}

package gbdt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

func init() {
	learn.Register(learn.Spec{
		Name:    "gbdt",
		Summary: "histogram gradient-boosted trees (LightGBM-style, leaf-wise)",
		Tasks:   []learn.Task{learn.Regression, learn.Binary, learn.Multiclass},
		New:     func() learn.Learner { return New() },
		Decode: func(kind string, data []byte) (learn.Model, error) {
			m, err := Decode(data)
			if err != nil {
				return nil, err
			}
			return m.Learned(), nil
		},
		Kinds: []string{Kind},
	})
}

// Kind is the model kind of fitted gbdt models.
const Kind = "gbdt"

// Learner is the histogram GBDT learner. The zero value is not useful: start
// from New, which sets LightGBM's defaults. Copying a Learner clones it (the
// pointer fields Binned, Validation and InitModel are shared, read-only).
type Learner struct {
	NumTrees        int     `param:"n_estimators" help:"boosting rounds (one tree per class per round for multiclass); 1..1000000"`
	LearningRate    float64 `param:"learning_rate" help:"shrinkage applied to every tree's output; (0, 1]"`
	MaxLeaves       int     `param:"max_leaves" help:"maximum leaves per tree (leaf-wise growth); 2..131072"`
	MaxDepth        int     `param:"max_depth" help:"maximum tree depth; -1 for no limit, else 1..64"`
	MinDataInLeaf   int     `param:"min_data_in_leaf" help:"minimum training rows in a leaf; ≥ 1"`
	MinSumHessian   float64 `param:"min_sum_hessian" help:"minimum hessian sum in a leaf; ≥ 0"`
	MinGain         float64 `param:"min_gain" help:"minimum loss reduction to make a split; ≥ 0"`
	L1              float64 `param:"l1" help:"L1 regularisation of leaf outputs; ≥ 0"`
	L2              float64 `param:"l2" help:"L2 regularisation (lambda) of leaf outputs; ≥ 0 (default 1, as XGBoost: it beat 0 on most shared data sets, multiclass especially)"`
	MaxBins         int     `param:"max_bins" help:"maximum value bins per feature (one more bin holds missing values); 2..255"`
	Subsample       float64 `param:"subsample" help:"fraction of training rows sampled for each tree (bagging); (0, 1]"`
	SubsampleFreq   int     `param:"subsample_freq" help:"re-draw the row sample every this many rounds when subsample < 1; ≥ 1"`
	ColSample       float64 `param:"colsample" help:"fraction of features sampled for each tree; (0, 1]"`
	MaxCatThreshold int     `param:"max_cat_threshold" help:"maximum categories sent left by one categorical split; ≥ 1 (categories beyond max_bins-1 levels share one bin)"`
	CatSmooth       float64 `param:"cat_smooth" help:"smoothing added to the hessian when ordering categories by gradient/hessian; ≥ 0"`
	CatL2           float64 `param:"cat_l2" help:"extra L2 regularisation in the gain of categorical splits; ≥ 0"`
	MinDataPerGroup int     `param:"min_data_per_group" help:"minimum rows of a category for it to be sent left by a categorical split (rarer ones go right); ≥ 1"`
	// EarlyStoppingRounds stops training when the validation loss has not
	// improved for this many rounds and keeps the best round's trees.
	EarlyStoppingRounds int     `param:"early_stopping_rounds" help:"stop after this many rounds without validation improvement; 0 = off"`
	ValidationFraction  float64 `param:"validation_fraction" help:"fraction of training rows held out (stratified, seeded) for early stopping when no validation set is given; (0, 0.5]"`
	Objective           string  `param:"objective" help:"loss: empty = from the task (squared, binary, softmax); regression also absolute, huber, poisson"`
	HuberDelta          float64 `param:"huber_delta" help:"residual size where the huber loss turns linear; > 0"`
	// MonotoneConstraints holds one of -1, 0, +1 per feature (empty = none):
	// predictions are non-decreasing (+1) or non-increasing (-1) in that
	// feature.
	MonotoneConstraints []int  `param:"monotone_constraints" help:"per feature -1, 0 or 1 (comma-separated); empty = none"`
	Seed                uint64 `param:"seed" help:"random seed for row/column sampling and the validation split"`
	Threads             int    `param:"threads" help:"worker goroutines; 0 = GOMAXPROCS"`

	// Binned, when set, is the pre-binned form of the training matrix (from
	// BinDataset with the same MaxBins), reused instead of binning again.
	// It must have been built from the same *frame.Matrix as the data set
	// passed to Fit (any row view of it).
	Binned *Binned
	// Validation, when set with EarlyStoppingRounds > 0, is the data set
	// early stopping watches (same features as the training set) instead of
	// a held-out fraction of the training rows.
	Validation *learn.Dataset
	// InitModel, when set, continues training: Fit starts from its
	// predictions and returns a model holding its trees followed by
	// NumTrees new rounds. Its task, classes and features must match.
	InitModel *Model
}

// New returns a learner with default hyperparameters: LightGBM's defaults,
// except L2 = 1 (XGBoost's lambda) and min_data_per_group = 10 (as
// scikit-learn's HistGradientBoosting), which scored better on the shared
// data sets.
func New() *Learner {
	return &Learner{NumTrees: 100, LearningRate: 0.1, MaxLeaves: 31, MaxDepth: -1, MinDataInLeaf: 20,
		MinSumHessian: 1e-3, L2: 1, MaxBins: 255, Subsample: 1, SubsampleFreq: 1, ColSample: 1,
		MaxCatThreshold: 32, CatSmooth: 10, CatL2: 10, MinDataPerGroup: 10, ValidationFraction: 0.1, HuberDelta: 1}
}

// Name returns "gbdt".
func (l *Learner) Name() string { return "gbdt" }

func defaultThreads() int { return runtime.GOMAXPROCS(0) }

// validate checks every hyperparameter against its range.
func (l *Learner) validate(d *learn.Dataset) error {
	type check struct {
		bad  bool
		name string
		val  any
		want string
	}
	checks := []check{
		{l.NumTrees < 1 || l.NumTrees > 1_000_000, "n_estimators", l.NumTrees, "1..1000000"},
		{!(l.LearningRate > 0 && l.LearningRate <= 1), "learning_rate", l.LearningRate, "(0, 1]"},
		{l.MaxLeaves < 2 || l.MaxLeaves > 131072, "max_leaves", l.MaxLeaves, "2..131072"},
		{l.MaxDepth != -1 && (l.MaxDepth < 1 || l.MaxDepth > 64), "max_depth", l.MaxDepth, "-1 or 1..64"},
		{l.MinDataInLeaf < 1, "min_data_in_leaf", l.MinDataInLeaf, "≥ 1"},
		{!(l.MinSumHessian >= 0) || math.IsInf(l.MinSumHessian, 1), "min_sum_hessian", l.MinSumHessian, "a finite number ≥ 0"},
		{!(l.MinGain >= 0) || math.IsInf(l.MinGain, 1), "min_gain", l.MinGain, "a finite number ≥ 0"},
		{!(l.L1 >= 0) || math.IsInf(l.L1, 1), "l1", l.L1, "a finite number ≥ 0"},
		{!(l.L2 >= 0) || math.IsInf(l.L2, 1), "l2", l.L2, "a finite number ≥ 0"},
		{l.MaxBins < 2 || l.MaxBins > 255, "max_bins", l.MaxBins, "2..255"},
		{!(l.Subsample > 0 && l.Subsample <= 1), "subsample", l.Subsample, "(0, 1]"},
		{l.SubsampleFreq < 1, "subsample_freq", l.SubsampleFreq, "≥ 1"},
		{!(l.ColSample > 0 && l.ColSample <= 1), "colsample", l.ColSample, "(0, 1]"},
		{l.MaxCatThreshold < 1, "max_cat_threshold", l.MaxCatThreshold, "≥ 1"},
		{!(l.CatSmooth >= 0) || math.IsInf(l.CatSmooth, 1), "cat_smooth", l.CatSmooth, "a finite number ≥ 0"},
		{!(l.CatL2 >= 0) || math.IsInf(l.CatL2, 1), "cat_l2", l.CatL2, "a finite number ≥ 0"},
		{l.MinDataPerGroup < 1, "min_data_per_group", l.MinDataPerGroup, "≥ 1"},
		{l.EarlyStoppingRounds < 0, "early_stopping_rounds", l.EarlyStoppingRounds, "0 (off) or ≥ 1"},
		{l.EarlyStoppingRounds > 0 && l.Validation == nil && !(l.ValidationFraction > 0 && l.ValidationFraction <= 0.5), "validation_fraction", l.ValidationFraction, "(0, 0.5]"},
		{!(l.HuberDelta > 0) || math.IsInf(l.HuberDelta, 1), "huber_delta", l.HuberDelta, "a finite number > 0"},
		{l.Threads < 0, "threads", l.Threads, "0 (all cores) or ≥ 1"},
	}
	for _, c := range checks {
		if c.bad {
			return fmt.Errorf("gbdt fit: hyperparameter %s is %v, want %s", c.name, c.val, c.want)
		}
	}
	if len(l.MonotoneConstraints) > 0 {
		if len(l.MonotoneConstraints) != d.X.Cols {
			return fmt.Errorf("gbdt fit: hyperparameter monotone_constraints has %d values for %d features, want one per feature", len(l.MonotoneConstraints), d.X.Cols)
		}
		for j, c := range l.MonotoneConstraints {
			if c < -1 || c > 1 {
				return fmt.Errorf("gbdt fit: hyperparameter monotone_constraints[%d] (%s) is %d, want -1, 0 or 1", j, d.Features[j].Name, c)
			}
			if c != 0 && d.Features[j].Categorical {
				return fmt.Errorf("gbdt fit: hyperparameter monotone_constraints[%d]: feature %q is categorical and cannot be monotone", j, d.Features[j].Name)
			}
		}
	}
	return nil
}

// objectiveFor resolves the objective name for the task.
func (l *Learner) objectiveFor(d *learn.Dataset) (string, error) {
	switch d.Task {
	case learn.Regression:
		switch l.Objective {
		case "", "squared", "regression", "l2", "mse":
			return ObjSquared, nil
		case ObjAbsolute, "l1", "mae":
			return ObjAbsolute, nil
		case ObjHuber:
			return ObjHuber, nil
		case ObjPoisson:
			return ObjPoisson, nil
		}
	case learn.Binary:
		switch l.Objective {
		case "", ObjBinary, "logloss", "log_loss":
			return ObjBinary, nil
		}
	case learn.Multiclass:
		switch l.Objective {
		case "", ObjSoftmax, "multiclass", "log_loss":
			return ObjSoftmax, nil
		}
	default:
		return "", fmt.Errorf("gbdt fit: task %s is not supported (want regression, binary or multiclass)", d.Task)
	}
	return "", fmt.Errorf("gbdt fit: hyperparameter objective is %q, not valid for %s (want empty, squared, absolute, huber or poisson for regression; binary for binary; softmax for multiclass)", l.Objective, d.Task)
}

// Fit trains a boosted ensemble on d.
func (l *Learner) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	m, err := l.fit(ctx, d)
	if err != nil {
		return nil, err
	}
	return m.Learned(), nil
}

// FitsColumns reports that Fit takes a data set given column by column
// (learn.Dataset.Columns), which it bins as it reads, unless a Binned
// matrix or an initial model (which predicts on the matrix) is set.
func (l *Learner) FitsColumns() bool { return l.Binned == nil && l.InitModel == nil }

// FitModel is Fit returning the concrete *Model.
func (l *Learner) FitModel(ctx context.Context, d *learn.Dataset) (*Model, error) {
	return l.fit(ctx, d)
}

func (l *Learner) fit(ctx context.Context, d *learn.Dataset) (*Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gbdt fit: %w", err)
	}
	if d == nil {
		return nil, errors.New("gbdt fit: no data set")
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("gbdt fit: %w", err)
	}
	if err := l.validate(d); err != nil {
		return nil, err
	}
	objName, err := l.objectiveFor(d)
	if err != nil {
		return nil, err
	}
	k := 1
	if objName == ObjSoftmax {
		k = len(d.Classes)
	}
	obj := &objective{name: objName, k: k, delta: l.HuberDelta}
	threads := l.Threads
	if threads == 0 {
		threads = defaultThreads()
	}
	if im := l.InitModel; im != nil && (im.task != d.Task || im.k != k || len(im.features) != d.X.Cols || im.objective != objName || len(im.classes) != len(d.Classes)) {
		return nil, fmt.Errorf("gbdt fit: init model (%s, %d features, objective %s) does not match the data set (%s, %d features, objective %s)",
			im.task, len(im.features), im.objective, d.Task, d.X.Cols, objName)
	}

	bd, err := l.binned(d, threads)
	if err != nil {
		return nil, err
	}
	N := d.X.Rows

	es := l.EarlyStoppingRounds > 0
	train, hold, val, err := l.rows(d)
	if err != nil {
		return nil, err
	}
	identityRows := d.Rows == nil && hold == nil

	// Initial scores.
	score, base, prior, err := l.initialScores(obj, d, train, hold, N)
	if err != nil {
		return nil, err
	}
	valScore, valRows := l.validationScores(val, base, k)
	if l.Binned == nil && d.Shared == nil {
		d, bd = releaseMatrix(d, bd)
	}

	var mono []int8
	for j, c := range l.MonotoneConstraints {
		if mono == nil {
			mono = make([]int8, d.X.Cols)
		}
		mono[j] = int8(c)
	}
	// One grower per tree grown at the same time: the k trees of a
	// multiclass round are independent given the round's gradients, so up
	// to min(threads, k) grow concurrently; the pool lends threads left
	// over (or freed when fewer trees remain) to their splits.
	wp := newWorkPool(threads)
	gparams := growParams{maxLeaves: l.MaxLeaves, maxDepth: max(l.MaxDepth, 0), minData: int64(l.MinDataInLeaf),
		minHess: l.MinSumHessian, minGain: l.MinGain, l1: l.L1, l2: l.L2, lr: l.LearningRate,
		maxCatThr: l.MaxCatThreshold, catSmooth: l.CatSmooth, catL2: l.CatL2, minDataGroup: int64(l.MinDataPerGroup), mono: mono,
		threads: threads, wp: wp}
	growers := newGrowers(gparams, bd, min(threads, k), len(train))
	roundTrees := make([]*tree, k)
	chunkMax := make([]float32, maxChunks*k*2)
	gp := make([]gpair, k*N)
	rng := rand.New(rand.NewPCG(l.Seed, 0x9b1d))
	allFeats := make([]int, d.X.Cols)
	for j := range allFeats {
		allFeats[j] = j
	}
	inBag := train
	var oob []int32
	var trees []*tree
	bestLoss, bestRound := math.Inf(1), 0
	for round := 0; round < l.NumTrees; round++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("gbdt fit: round %d: %w", round+1, err)
		}
		// Row sample.
		if l.Subsample < 1 && round%l.SubsampleFreq == 0 {
			inBag, oob = subsample(rng, train, oob[:0], l.Subsample)
		}
		// Column sample.
		feats := allFeats
		if l.ColSample < 1 {
			feats = colSample(rng, len(allFeats), l.ColSample)
		}
		chunks := roundGradients(wp, obj, gp, chunkMax, score, d, inBag, threads, k, N)
		wp.run(k, func(c int) {
			gw := <-growers
			defer func() { growers <- gw }()
			gw.feats = feats
			gw.idx = append(gw.idx[:0], inBag...)
			gw.identity = identityRows && len(inBag) == N
			var a, b float32
			for ci := range chunks {
				a, b = max(a, chunkMax[(ci*k+c)*2]), max(b, chunkMax[(ci*k+c)*2+1])
			}
			gw.maxG, gw.maxH, gw.haveMax = a, b, true
			cgp := gp[c*N : (c+1)*N]
			t := gw.grow(cgp)
			if objName == ObjAbsolute {
				renewMedian(gw, t, score, d.Y, d.Weight, l.LearningRate)
			}
			addTree(wp, gw, t, score[c*N:(c+1)*N], oob, hold)
			if val != nil {
				addValTree(t, val, valRows, valScore[c*val.X.Rows:(c+1)*val.X.Rows])
			}
			roundTrees[c] = t
		})
		trees = append(trees, roundTrees...)
		if es {
			var loss float64
			if val != nil {
				loss = obj.loss(valScore, val.Y, val.Weight, valRows, val.X.Rows)
			} else {
				loss = obj.loss(score, d.Y, d.Weight, hold, N)
			}
			if loss < bestLoss {
				bestLoss, bestRound = loss, round+1
			} else if round+1-bestRound >= l.EarlyStoppingRounds {
				break
			}
		}
	}
	allRounds := len(trees)
	if es && bestRound > 0 {
		trees = trees[:bestRound*k]
	}
	m := &Model{task: d.Task, objective: objName, k: k, classes: slices.Clone(d.Classes),
		features: slices.Clone(d.Features), base: base, trees: append(slices.Clone(prior), trees...)}
	if d.Rows == nil && len(trees) == allRounds {
		// Every matrix row's score holds every tree (out-of-bag and
		// held-out rows too): the model's outputs on its training matrix.
		m.fitRaw = score
	}
	m.init()
	return m, nil
}

// releaseMatrix returns d with a matrix of the same shape but no values,
// and bd (private to this fit) without its reference to the matrix: from
// here on the fit reads only bins, so a caller that keeps no reference of
// its own (train.Fit) lets the float matrix go while the trees grow,
// instead of holding it beside the binned copy.
func releaseMatrix(d *learn.Dataset, bd *Binned) (*learn.Dataset, *Binned) {
	dd := *d
	dd.X = &frame.Matrix{Rows: d.X.Rows, Cols: d.X.Cols}
	bd.X = nil
	return &dd, bd
}

// roundGradients computes the gradients of the in-bag rows, parallel over
// row chunks, with each chunk's largest |gradient| and hessian per class
// taken while the chunk is in cache (the trees' quantisation scales need
// them) into chunkMax[(chunk·k+class)·2 : +2]; it returns the number of
// chunks.
func roundGradients(wp *workPool, obj *objective, gp []gpair, chunkMax []float32, score []float64, d *learn.Dataset, inBag []int32, threads, k, N int) int {
	return wp.chunked(len(inBag), min(threads, maxChunks), 1<<12, func(ci, lo, hi int) {
		rows := inBag[lo:hi]
		if k == 1 {
			chunkMax[2*ci], chunkMax[2*ci+1] = obj.gradientsMax(gp, score, d.Y, d.Weight, rows, N)
			return
		}
		obj.gradients(gp, score, d.Y, d.Weight, rows, N)
		for c := range k {
			a, b := gradMax(gp[c*N:(c+1)*N], rows)
			chunkMax[(ci*k+c)*2], chunkMax[(ci*k+c)*2+1] = a, b
		}
	})
}

// newGrowers returns a pool of n growers, each with room for rows row
// indices.
func newGrowers(gp growParams, bd *Binned, n, rows int) chan *grower {
	growers := make(chan *grower, n)
	for range n {
		gw := newGrower(gp, bd)
		gw.idx = make([]int32, rows)
		growers <- gw
	}
	return growers
}

// rows returns the training rows and the held-out rows (matrix row
// indices, data-set order; hold-out only with early stopping and no
// validation set) and the checked validation set (with early stopping).
func (l *Learner) rows(d *learn.Dataset) (train, hold []int32, val *learn.Dataset, err error) {
	all := make([]int32, d.N())
	for i := range all {
		all[i] = int32(d.Row(i))
	}
	train = all
	es := l.EarlyStoppingRounds > 0
	if es && l.Validation == nil {
		train, hold = holdout(d, all, l.ValidationFraction, l.Seed)
	}
	if len(train) == 0 {
		return nil, nil, nil, errors.New("gbdt fit: no training rows left after the validation hold-out")
	}
	if d.Rows != nil && !slices.IsSorted(train) {
		// A view's rows in matrix order: the histograms, partitions and
		// gradients then walk the bins and scores forward instead of at
		// random (a shuffled 180,000-row holdout view fitted 2.6× slower
		// than the same rows in order). Quantised histogram sums do not
		// depend on the order; leaf values are summed in it.
		slices.Sort(train)
	}
	if es && l.Validation != nil {
		val = l.Validation
		if err := checkValidation(val, d); err != nil {
			return nil, nil, nil, err
		}
	}
	return train, hold, val, nil
}

// binned returns the binned matrix to fit on: Binned when set (checked
// against d), else the one shared across fits on views of d's matrix, else
// a new one.
func (l *Learner) binned(d *learn.Dataset, threads int) (*Binned, error) {
	bd := l.Binned
	if bd != nil {
		if bd.X != d.X {
			return nil, errors.New("gbdt fit: Binned was built from a different matrix than the data set's (build it with BinDataset on this data)")
		}
		if bd.MaxBins != l.MaxBins {
			return nil, fmt.Errorf("gbdt fit: Binned was built with max_bins %d, learner has %d", bd.MaxBins, l.MaxBins)
		}
	} else if d.Shared != nil {
		// Bin the whole matrix once and share it across fits on its views
		// (AutoML trials and folds): boundaries then come from all rows of
		// X, which is unsupervised and what Dataset.Shared allows.
		v, err := d.Shared.Get(fmt.Sprintf("gbdt/bins/%d", l.MaxBins), func() (any, error) {
			return binDataset(&learn.Dataset{X: d.X, Features: d.Features, Task: d.Task, Columns: d.Columns}, l.MaxBins, threads)
		})
		if err != nil {
			return nil, fmt.Errorf("gbdt fit: %w", err)
		}
		bd = v.(*Binned)
	} else {
		var err error
		if bd, err = binDataset(d, l.MaxBins, threads); err != nil {
			return nil, fmt.Errorf("gbdt fit: %w", err)
		}
	}
	return bd, nil
}

// checkValidation checks that a validation set fits the training set d.
func checkValidation(val, d *learn.Dataset) error {
	if err := val.Check(); err != nil {
		return fmt.Errorf("gbdt fit: validation set: %w", err)
	}
	if val.X.Cols != d.X.Cols || val.Task != d.Task || len(val.Classes) != len(d.Classes) {
		return fmt.Errorf("gbdt fit: validation set has %d features and task %s with %d classes, want %d features and task %s with %d classes",
			val.X.Cols, val.Task, len(val.Classes), d.X.Cols, d.Task, len(d.Classes))
	}
	return nil
}

// initialScores returns the raw scores (class-major, k×N) training starts
// from on the training and held-out rows, the base score and the trees
// before this fit's: the init model's, or the objective's base score.
func (l *Learner) initialScores(obj *objective, d *learn.Dataset, train, hold []int32, N int) (score, base []float64, prior []*tree, err error) {
	k := obj.k
	score = make([]float64, k*N)
	if l.InitModel != nil {
		base = slices.Clone(l.InitModel.base)
		prior = l.InitModel.trees
		rows := append(slices.Clone(train), hold...)
		l.InitModel.rawRows(d.X, rows, score)
	} else {
		if base, err = obj.baseScore(d.Y, d.Weight, train); err != nil {
			return nil, nil, nil, fmt.Errorf("gbdt fit: %w", err)
		}
		for c := range k {
			s := score[c*N : (c+1)*N]
			for _, r := range train {
				s[r] = base[c]
			}
			for _, r := range hold {
				s[r] = base[c]
			}
		}
	}
	return score, base, prior, nil
}

// validationScores returns the raw scores of the validation set's rows
// (nil without one) and the rows.
func (l *Learner) validationScores(val *learn.Dataset, base []float64, k int) (valScore []float64, valRows []int32) {
	if val == nil {
		return nil, nil
	}
	valRows = make([]int32, val.N())
	for i := range valRows {
		valRows[i] = int32(val.Row(i))
	}
	valScore = make([]float64, k*val.X.Rows)
	if l.InitModel != nil {
		l.InitModel.rawRows(val.X, valRows, valScore)
	} else {
		for c := range k {
			for _, r := range valRows {
				valScore[c*val.X.Rows+int(r)] = base[c]
			}
		}
	}
	return valScore, valRows
}

// subsample draws each training row into the bag with probability frac
// (at least one row) and returns the bag and the out-of-bag rows, the
// latter appended to oob.
func subsample(rng *rand.Rand, train, oob []int32, frac float64) (inBag, outOfBag []int32) {
	for _, r := range train {
		if rng.Float64() < frac {
			inBag = append(inBag, r)
		} else {
			oob = append(oob, r)
		}
	}
	if len(inBag) == 0 {
		inBag = append(inBag, train[0])
		oob = oob[1:]
	}
	return inBag, oob
}

// colSample draws round(frac·p) of the p features (at least one), sorted.
func colSample(rng *rand.Rand, p int, frac float64) []int {
	m := max(1, int(math.Round(frac*float64(p))))
	perm := rng.Perm(p)[:m]
	slices.Sort(perm)
	return perm
}

// addTree adds tree t's leaf values to the class's scores s: the rows it
// grew on by leaf (leaves in parallel on large nodes), out-of-bag and
// held-out rows by walking their bins.
func addTree(wp *workPool, gw *grower, t *tree, s []float64, oob, hold []int32) {
	addLeaf := func(li int) {
		lf := gw.leaves[li]
		v := t.Value[li]
		for _, r := range gw.idx[lf.start : lf.start+lf.count] {
			s[r] += v
		}
	}
	if len(gw.idx) >= 1<<14 {
		wp.run(len(gw.leaves), addLeaf)
	} else {
		for li := range gw.leaves {
			addLeaf(li)
		}
	}
	for _, r := range oob {
		s[r] += t.Value[gw.binnedLeaf(t, int(r))]
	}
	for _, r := range hold {
		s[r] += t.Value[gw.binnedLeaf(t, int(r))]
	}
}

// addValTree adds tree t's values to the validation rows' scores vs (one
// class's) by walking the raw values.
func addValTree(t *tree, val *learn.Dataset, valRows []int32, vs []float64) {
	vn := val.X.Rows
	for _, r := range valRows {
		li := t.leafOf(func(f int) float64 { return val.X.Data[f*vn+int(r)] })
		vs[r] += t.Value[li]
	}
}

// holdout splits data-set rows into training and validation rows: a seeded,
// stratified (by class for classification) fraction frac is held out.
func holdout(d *learn.Dataset, all []int32, frac float64, seed uint64) (train, hold []int32) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	groups := map[int][]int{}
	var keys []int
	for i := range all {
		key := 0
		if d.Task.Classification() {
			key = int(d.Target(i))
		}
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], i)
	}
	slices.Sort(keys)
	isHold := make([]bool, len(all))
	for _, key := range keys {
		g := groups[key]
		m := int(math.Round(frac * float64(len(g))))
		if m >= len(g) {
			m = len(g) - 1
		}
		perm := rng.Perm(len(g))
		for _, p := range perm[:m] {
			isHold[g[p]] = true
		}
	}
	for i, r := range all {
		if isHold[i] {
			hold = append(hold, r)
		} else {
			train = append(train, r)
		}
	}
	return train, hold
}

// renewMedian resets each leaf of t to the weighted median residual of its
// rows (absolute loss), scaled by the learning rate.
func renewMedian(g *grower, t *tree, score, y, w []float64, lr float64) {
	for li, lf := range g.leaves {
		rows := g.idx[lf.start : lf.start+lf.count]
		if len(rows) == 0 {
			continue
		}
		res := make([]float64, len(rows))
		ws := make([]float64, len(rows))
		for k, r := range rows {
			res[k] = y[r] - score[r]
			ws[k] = wt(w, r)
		}
		t.Value[li] = weightedMedian(res, ws) * lr
	}
}

var _ learn.Learner = (*Learner)(nil)

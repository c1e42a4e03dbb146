package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/metric"
)

// Evaluation is what an evaluation page shows: a model's predictions on
// labelled data.
type Evaluation struct {
	Model, Data string
	// Task is "binary", "multiclass" or "regression".
	Task    string
	Classes []string
	// Y holds true targets (class indices or values); Pred the predicted
	// class indices or values; Proba row-major n×k probabilities.
	Y, Pred, Proba []float64
	// Metrics and TrainMetrics by name.
	Metrics, TrainMetrics map[string]float64
	// Importance is feature importance (name → value), optional.
	Importance map[string]float64
	// ImportanceSource says which model the importance comes from.
	ImportanceSource string
}

// maxCurvePoints thins ROC and PR curves so pages stay light.
const maxCurvePoints = 300

// EvaluationPage builds the evaluation report.
func EvaluationPage(e *Evaluation) *Page {
	pg := &Page{Title: "Model evaluation: " + e.Model, Generated: time.Now(),
		Subtitle: fmt.Sprintf("%s rows of %s · %s", commas(len(e.Y)), e.Data, e.Task)}
	AddEvaluation(pg, e)
	return pg
}

// AddEvaluation appends the evaluation sections to a page.
func AddEvaluation(pg *Page, e *Evaluation) {
	ov := pg.AddSection("Metrics")
	var cards Cards
	for _, name := range headline(e.Task) {
		if v, ok := e.Metrics[name]; ok {
			c := Card{Label: name, Value: strconv.FormatFloat(v, 'f', 4, 64)}
			if tv, ok := e.TrainMetrics[name]; ok {
				c.Note = "train " + strconv.FormatFloat(tv, 'f', 4, 64)
			}
			cards = append(cards, c)
		}
	}
	ov.Add(cards)
	names := make([]string, 0, len(e.Metrics))
	for k := range e.Metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	tbl := Table{Columns: []string{"metric", "this data", "training data"}, Numeric: map[int]bool{1: true, 2: true}, Compact: true}
	for _, k := range names {
		tr := "–"
		if v, ok := e.TrainMetrics[k]; ok {
			tr = strconv.FormatFloat(v, 'f', 4, 64)
		}
		tbl.Rows = append(tbl.Rows, []Cell{{Text: k}, {Text: strconv.FormatFloat(e.Metrics[k], 'f', 4, 64)}, {Text: tr}})
	}
	ov.Add(tbl)
	if e.Task == "regression" {
		addRegression(pg, e)
	} else {
		addClassification(pg, e)
	}
	if len(e.Importance) > 0 {
		addImportance(pg, e)
	}
}

func headline(task string) []string {
	switch task {
	case "regression":
		return []string{"rmse", "mae", "r2", "mape"}
	case "binary":
		return []string{"roc_auc", "pr_auc", "accuracy", "f1", "log_loss"}
	}
	return []string{"log_loss", "accuracy", "balanced_accuracy", "f1_macro", "roc_auc_ovr"}
}

func addClassification(pg *Page, e *Evaluation) {
	k := len(e.Classes)
	curves := pg.AddSection("ROC and precision-recall")
	roc, pr := classCurves(e)
	roc = append(roc, Curve{Name: "chance", Points: [][2]float64{{0, 0}, {1, 1}}, Dashed: true})
	curves.Add(Grid{Blocks: []Block{
		Chart{Title: "ROC curve", Option: Curves(roc, "false positive rate", "true positive rate", 0, 1, false), Height: 340},
		Chart{Title: "Precision-recall curve", Option: Curves(pr, "recall", "precision", 0, 1, false), Height: 340},
	}})

	cm := pg.AddSection("Confusion matrix")
	m, err := metric.ConfusionMatrix(e.Y, e.Pred, k, nil)
	if err == nil && k <= 30 {
		norm := make([][]float64, k)
		for i := range m {
			norm[i] = make([]float64, k)
			t := 0.0
			for _, v := range m[i] {
				t += v
			}
			for j, v := range m[i] {
				if t > 0 {
					norm[i][j] = v / t
				}
			}
		}
		cm.Add(Note{Text: "Rows are the true class, columns the predicted class; cells show the share of each true class."},
			Chart{Option: Heatmap(e.Classes, e.Classes, norm, 0, 1), Height: 120 + 28*k})
	}
	if rep, err := metric.ClassReport(e.Y, e.Pred, k, nil); err == nil {
		tbl := Table{Columns: []string{"class", "precision", "recall", "f1", "support", "predicted"}, Numeric: map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true}, Compact: true}
		for _, s := range rep {
			tbl.Rows = append(tbl.Rows, []Cell{{Text: e.Classes[s.Class]}, {Text: f4(s.Precision), Bar: s.Precision}, {Text: f4(s.Recall), Bar: s.Recall},
				{Text: f4(s.F1), Bar: s.F1}, {Text: commas(int(s.Support))}, {Text: commas(int(s.Predicted))}})
		}
		cm.Add(Heading("Per-class report"), tbl)
	}

	cal := pg.AddSection("Calibration")
	c := 1
	if k > 2 {
		c = -1 // top-class confidence vs accuracy
	}
	var pts [][2]float64
	bins := 10
	sumP, sumY, cnt := make([]float64, bins), make([]float64, bins), make([]float64, bins)
	for i := range e.Y {
		var p, hit float64
		if c >= 0 {
			p = e.Proba[i*k+c]
			if int(e.Y[i]) == c {
				hit = 1
			}
		} else {
			p = e.Proba[i*k+int(e.Pred[i])]
			if e.Pred[i] == e.Y[i] {
				hit = 1
			}
		}
		b := min(bins-1, int(p*float64(bins)))
		sumP[b] += p
		sumY[b] += hit
		cnt[b]++
	}
	for b := range cnt {
		if cnt[b] > 0 {
			pts = append(pts, [2]float64{sumP[b] / cnt[b], sumY[b] / cnt[b]})
		}
	}
	label, xName, yName := "model", "mean predicted probability", "observed frequency"
	if c < 0 {
		xName, yName = "confidence (top-class probability)", "accuracy"
	}
	cal.Add(Note{Text: "Predictions grouped in ten probability bins; a calibrated model lies on the diagonal."},
		Chart{Option: Curves([]Curve{{Name: label, Points: pts}, {Name: "perfect", Points: [][2]float64{{0, 0}, {1, 1}}, Dashed: true}}, xName, yName, 0, 1, false), Height: 320})
}

// classCurves are a classifier's ROC and precision-recall curves, thinned
// to maxCurvePoints: for the positive class of a binary model, else for
// each of the first ten classes against the rest.
func classCurves(e *Evaluation) (roc, pr []Curve) {
	k := len(e.Classes)
	classes := []int{1}
	if k > 2 {
		classes = nil
		for c := 0; c < k && c < 10; c++ {
			classes = append(classes, c)
		}
	}
	for _, c := range classes {
		y := make([]float64, len(e.Y))
		s := make([]float64, len(e.Y))
		for i := range y {
			if int(e.Y[i]) == c {
				y[i] = 1
			}
			s[i] = e.Proba[i*k+c]
		}
		pts, err := metric.ThresholdCurve(y, s, nil)
		if err != nil {
			continue
		}
		step := max(1, len(pts)/maxCurvePoints)
		r := [][2]float64{{0, 0}}
		p := [][2]float64{}
		for i := 0; i < len(pts); i += step {
			r = append(r, [2]float64{pts[i].FPR, pts[i].TPR})
			p = append(p, [2]float64{pts[i].Recall, pts[i].Precision})
		}
		last := pts[len(pts)-1]
		r = append(r, [2]float64{last.FPR, last.TPR})
		p = append(p, [2]float64{last.Recall, last.Precision})
		name := e.Classes[c]
		if k == 2 {
			name = "positive class " + e.Classes[1]
		}
		roc = append(roc, Curve{Name: name, Points: r})
		pr = append(pr, Curve{Name: name, Points: p})
	}
	return roc, pr
}

func addRegression(pg *Page, e *Evaluation) {
	sec := pg.AddSection("Predictions and residuals")
	idx := sampleRows(len(e.Y), 2000)
	pa := make([][2]float64, len(idx))
	rp := make([][2]float64, len(idx))
	lo, hi := math.Inf(1), math.Inf(-1)
	for j, i := range idx {
		pa[j] = [2]float64{e.Y[i], e.Pred[i]}
		rp[j] = [2]float64{e.Pred[i], e.Y[i] - e.Pred[i]}
		lo, hi = math.Min(lo, math.Min(e.Y[i], e.Pred[i])), math.Max(hi, math.Max(e.Y[i], e.Pred[i]))
	}
	res := make([]float64, len(e.Y))
	for i := range res {
		res[i] = e.Y[i] - e.Pred[i]
	}
	edges, counts := histogram(res, 30)
	sec.Add(Grid{Blocks: []Block{
		Chart{Title: "Predicted vs actual", Option: Curves([]Curve{{Name: "rows", Points: pa}, {Name: "ideal", Points: [][2]float64{{lo, lo}, {hi, hi}}, Dashed: true}}, "actual", "predicted", 0, 0, false), Height: 340},
		Chart{Title: "Residuals vs predicted", Option: Scatter(rp, "predicted", "residual (actual − predicted)"), Height: 340},
	}}, Chart{Title: "Residual distribution", Option: Histogram(edges, counts, "rows")})
	// The scatter of predicted vs actual reads better without lines.
	if o, ok := sec.Blocks[0].(Grid).Blocks[0].(Chart).Option.(obj); ok {
		s := o["series"].([]obj)
		s[0]["type"] = "scatter"
		s[0]["symbolSize"] = 4
		s[0]["itemStyle"] = obj{"opacity": 0.5}
	}
}

func addImportance(pg *Page, e *Evaluation) {
	type kv struct {
		k string
		v float64
	}
	var all []kv
	total := 0.0
	for k, v := range e.Importance {
		all = append(all, kv{k, v})
		total += v
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	if len(all) > 25 {
		all = all[:25]
	}
	names := make([]string, len(all))
	vals := make([]float64, len(all))
	for i, x := range all {
		names[i] = x.k
		if total > 0 {
			vals[i] = x.v / total
		}
	}
	sec := pg.AddSection("Feature importance")
	if e.ImportanceSource != "" {
		sec.Add(Note{Text: "Share of total importance, from " + e.ImportanceSource + "."})
	}
	sec.Add(Chart{Option: Bars(names, []Series{{Name: "importance", Values: vals}}, BarOptions{Horizontal: true}), Height: 60 + 22*len(names)})
}

func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

// sampleRows returns up to n row indices, seeded, in order.
func sampleRows(total, n int) []int {
	if total <= n {
		out := make([]int, total)
		for i := range out {
			out[i] = i
		}
		return out
	}
	r := rand.New(rand.NewPCG(1, 2))
	out := r.Perm(total)[:n]
	sort.Ints(out)
	return out
}

// histogram bins values into n equal-width bins.
func histogram(v []float64, n int) ([]float64, []int) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	edges := make([]float64, n+1)
	for i := range edges {
		edges[i] = lo + (hi-lo)*float64(i)/float64(n)
	}
	counts := make([]int, n)
	for _, x := range v {
		b := min(n-1, int((x-lo)/(hi-lo)*float64(n)))
		counts[b]++
	}
	return edges, counts
}

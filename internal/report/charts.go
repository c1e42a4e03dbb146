package report

import (
	"math"
	"strconv"
)

// Palette is the series colour order.
var Palette = []string{"#2186eb", "#f0b429", "#3ebd93", "#e12d39", "#9446ed", "#27ab83", "#f35627", "#616e7c", "#0b69a3", "#c65d21"}

// Series is one named data series.
type Series struct {
	Name   string
	Values []float64
}

type obj = map[string]any

func base() obj {
	return obj{
		"animation": false,
		"color":     Palette,
		"grid":      obj{"left": 56, "right": 16, "top": 24, "bottom": 40, "containLabel": false},
		"tooltip":   obj{"trigger": "axis", "confine": true},
		"textStyle": obj{"fontFamily": "-apple-system, Segoe UI, Roboto, Arial, sans-serif"},
	}
}

// num converts NaN and ±Inf to nil (JSON null) for chart data.
func num(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func nums(v []float64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = num(x)
	}
	return out
}

// FormatNumber renders a number compactly (4 significant digits, thousands
// as k/M when large).
func FormatNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "–"
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', 2, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	case a == math.Trunc(a):
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Histogram builds a histogram option from bin edges and counts.
func Histogram(edges []float64, counts []int, name string) any {
	o := base()
	labels := make([]string, len(counts))
	data := make([]float64, len(counts))
	for i := range counts {
		labels[i] = FormatNumber(edges[i]) + "–" + FormatNumber(edges[i+1])
		data[i] = float64(counts[i])
	}
	o["xAxis"] = obj{"type": "category", "data": labels, "axisLabel": obj{"fontSize": 10, "hideOverlap": true}, "axisTick": obj{"alignWithLabel": true}}
	o["yAxis"] = obj{"type": "value", "splitLine": obj{"lineStyle": obj{"color": "#eef1f4"}}}
	o["series"] = []obj{{"name": name, "type": "bar", "data": data, "barCategoryGap": "4%"}}
	return o
}

// BarOptions tunes Bars.
type BarOptions struct {
	// Horizontal draws categories on the y axis (top first).
	Horizontal bool
	// Stacked stacks the series; Percent normalises each category to 100%.
	Stacked, Percent bool
	// Legend shows the series names.
	Legend bool
}

// Bars builds a (grouped or stacked) bar chart over categories.
func Bars(categories []string, series []Series, opt BarOptions) any {
	o := base()
	cat := obj{"type": "category", "data": categories, "axisLabel": obj{"fontSize": 11, "hideOverlap": true}}
	val := obj{"type": "value", "splitLine": obj{"lineStyle": obj{"color": "#eef1f4"}}}
	if opt.Percent {
		val["max"] = 100
		val["axisLabel"] = obj{"formatter": "{value}%"}
	}
	if opt.Horizontal {
		cat["inverse"] = true
		cat["axisLabel"] = obj{"fontSize": 11, "width": 130, "overflow": "truncate"}
		o["xAxis"], o["yAxis"] = val, cat
		o["grid"] = obj{"left": 140, "right": 24, "top": 24, "bottom": 24}
	} else {
		o["xAxis"], o["yAxis"] = cat, val
	}
	o["tooltip"] = obj{"trigger": "axis", "axisPointer": obj{"type": "shadow"}, "confine": true}
	var ss []obj
	for _, s := range series {
		vals := s.Values
		if opt.Percent {
			vals = make([]float64, len(s.Values))
			for i := range vals {
				t := 0.0
				for _, x := range series {
					t += x.Values[i]
				}
				if t > 0 {
					vals[i] = math.Round(1000*s.Values[i]/t) / 10
				}
			}
		}
		e := obj{"name": s.Name, "type": "bar", "data": nums(vals)}
		if opt.Stacked || opt.Percent {
			e["stack"] = "all"
		}
		ss = append(ss, e)
	}
	o["series"] = ss
	if opt.Legend {
		o["legend"] = obj{"top": 0, "type": "scroll"}
		g := o["grid"].(obj)
		g["top"] = 36
	}
	return o
}

// Heatmap builds a heatmap with x labels (columns), y labels (rows) and
// values[y][x] (NaN shown empty) on a diverging scale over [lo, hi].
func Heatmap(x, y []string, values [][]float64, lo, hi float64) any {
	o := base()
	var data [][3]any
	for i := range y {
		for j := range x {
			v := values[i][j]
			var cell any = nil
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				cell = math.Round(v*1000) / 1000
			}
			data = append(data, [3]any{j, i, cell})
		}
	}
	colors := []string{"#2186eb", "#f5f7fa", "#e12d39"}
	if lo >= 0 {
		colors = []string{"#f5f7fa", "#9fb3c8", "#102a43"}
	}
	o["tooltip"] = obj{"position": "top", "confine": true}
	o["grid"] = obj{"left": 110, "right": 60, "top": 10, "bottom": 90}
	o["xAxis"] = obj{"type": "category", "data": x, "axisLabel": obj{"rotate": 45, "fontSize": 10, "interval": 0, "width": 90, "overflow": "truncate"}, "splitArea": obj{"show": true}}
	if len(x) > 30 { // many columns (e.g. row chunks): labels in the tooltip only
		o["xAxis"].(obj)["axisLabel"] = obj{"show": false}
		o["grid"] = obj{"left": 110, "right": 60, "top": 10, "bottom": 20}
	}
	o["yAxis"] = obj{"type": "category", "data": y, "inverse": true, "axisLabel": obj{"fontSize": 10, "interval": 0, "width": 100, "overflow": "truncate"}, "splitArea": obj{"show": true}}
	o["visualMap"] = obj{"min": lo, "max": hi, "calculable": true, "orient": "vertical", "right": 0, "top": 10, "itemHeight": 110, "itemWidth": 12, "textStyle": obj{"fontSize": 10}, "inRange": obj{"color": colors}, "precision": 2}
	showLabels := len(x)*len(y) <= 225
	o["series"] = []obj{{"type": "heatmap", "data": data, "label": obj{"show": showLabels, "fontSize": 9}, "emphasis": obj{"itemStyle": obj{"borderColor": "#333", "borderWidth": 1}}}}
	return o
}

// Lines builds a line chart over category labels.
func Lines(labels []string, series []Series, yName string) any {
	o := base()
	o["xAxis"] = obj{"type": "category", "data": labels, "axisLabel": obj{"fontSize": 10, "hideOverlap": true}}
	o["yAxis"] = obj{"type": "value", "name": yName, "scale": true, "splitLine": obj{"lineStyle": obj{"color": "#eef1f4"}}}
	var ss []obj
	for _, s := range series {
		ss = append(ss, obj{"name": s.Name, "type": "line", "data": nums(s.Values), "symbolSize": 5})
	}
	o["series"] = ss
	if len(series) > 1 {
		o["legend"] = obj{"top": 0}
		o["grid"].(obj)["top"] = 36
	}
	return o
}

// Scatter builds a scatter plot of sampled points.
func Scatter(points [][2]float64, xName, yName string) any {
	o := base()
	o["tooltip"] = obj{"trigger": "item", "confine": true}
	o["grid"] = obj{"left": 64, "right": 24, "top": 24, "bottom": 48}
	o["xAxis"] = obj{"type": "value", "name": xName, "nameLocation": "middle", "nameGap": 28, "scale": true, "splitLine": obj{"lineStyle": obj{"color": "#eef1f4"}}}
	o["yAxis"] = obj{"type": "value", "name": yName, "scale": true, "splitLine": obj{"lineStyle": obj{"color": "#eef1f4"}}}
	data := make([][2]any, len(points))
	for i, p := range points {
		data[i] = [2]any{num(p[0]), num(p[1])}
	}
	o["series"] = []obj{{"type": "scatter", "data": data, "symbolSize": 4, "itemStyle": obj{"opacity": 0.5}, "large": len(points) > 2000}}
	return o
}

// Curve is one named line of (x, y) points.
type Curve struct {
	Name   string
	Points [][2]float64
	// Dashed draws a dashed reference line (e.g. the diagonal).
	Dashed bool
}

// Curves builds a line chart over a numeric x axis: ROC and
// precision-recall curves, calibration plots, search trajectories. With
// step set, lines are drawn as steps (a best-so-far trajectory).
func Curves(curves []Curve, xName, yName string, lo, hi float64, step bool) any {
	o := base()
	o["tooltip"] = obj{"trigger": "item", "confine": true}
	o["grid"] = obj{"left": 64, "right": 24, "top": 36, "bottom": 48}
	x := obj{"type": "value", "name": xName, "nameLocation": "middle", "nameGap": 28, "splitLine": obj{"lineStyle": obj{"color": "#eef1f4"}}}
	y := obj{"type": "value", "name": yName, "splitLine": obj{"lineStyle": obj{"color": "#eef1f4"}}}
	if lo < hi {
		x["min"], x["max"], y["min"], y["max"] = lo, hi, lo, hi
	} else {
		x["scale"], y["scale"] = true, true
	}
	o["xAxis"], o["yAxis"] = x, y
	var ss []obj
	for _, c := range curves {
		data := make([][2]any, len(c.Points))
		for i, p := range c.Points {
			data[i] = [2]any{num(p[0]), num(p[1])}
		}
		s := obj{"name": c.Name, "type": "line", "data": data, "showSymbol": len(c.Points) <= 30, "symbolSize": 5}
		if step {
			s["step"] = "end"
		}
		if c.Dashed {
			s["lineStyle"] = obj{"type": "dashed", "color": "#9aa5b1"}
			s["itemStyle"] = obj{"color": "#9aa5b1"}
			s["silent"] = true
		}
		ss = append(ss, s)
	}
	o["series"] = ss
	o["legend"] = obj{"top": 0, "type": "scroll"}
	return o
}

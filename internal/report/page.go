package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

//go:embed assets/echarts.min.js
var echartsJS string

// Page is a whole report.
type Page struct {
	// Title is the page heading and document title.
	Title string
	// Subtitle is a line under the title (source, sizes).
	Subtitle string
	// Sections appear in order, each listed in the navigation.
	Sections []*Section
	// Generated is the time shown in the footer (zero: omitted).
	Generated time.Time
}

// Section is a titled part of a page with an anchor.
type Section struct {
	// ID is the anchor (derived from Title when empty).
	ID    string
	Title string
	// Sub entries are listed indented in the navigation (e.g. columns).
	Sub bool
	// Badge is a short marker shown next to the title and in the
	// navigation, e.g. a severity.
	Badge  string
	Tone   Tone
	Blocks []Block
}

// Add appends blocks and returns the section.
func (s *Section) Add(b ...Block) *Section { s.Blocks = append(s.Blocks, b...); return s }

// AddSection appends and returns a new section.
func (p *Page) AddSection(title string) *Section {
	s := &Section{Title: title}
	p.Sections = append(p.Sections, s)
	return s
}

// Tone colours cards, badges and table cells.
type Tone string

// Tones.
const (
	Neutral Tone = ""
	Good    Tone = "good"
	Info    Tone = "info"
	Warning Tone = "warn"
	Bad     Tone = "bad"
)

// Block is one renderable piece of a section. Implementations are Cards,
// Table, Chart, Note, Grid, Heading and HTML.
type Block interface {
	html(ctx *renderCtx) template.HTML
}

type renderCtx struct{ charts int }

// Card is one headline figure.
type Card struct {
	Label string
	Value string
	Note  string
	Tone  Tone
}

// Cards is a row of headline figures.
type Cards []Card

func (c Cards) html(*renderCtx) template.HTML {
	var b strings.Builder
	b.WriteString(`<div class="cards">`)
	for _, k := range c {
		fmt.Fprintf(&b, `<div class="card %s"><div class="label">%s</div><div class="value">%s</div>`, esc(string(k.Tone)), esc(k.Label), esc(k.Value))
		if k.Note != "" {
			fmt.Fprintf(&b, `<div class="note">%s</div>`, esc(k.Note))
		}
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

// Cell is a table cell: text with an optional tone; Bar (0..1) draws an
// inline bar behind the text.
type Cell struct {
	Text string
	Tone Tone
	Bar  float64
	// Link makes the text an anchor to "#"+Link.
	Link string
}

// Table is a data table.
type Table struct {
	Columns []string
	Rows    [][]Cell
	// Numeric marks right-aligned columns by index.
	Numeric map[int]bool
	// Compact uses a smaller font.
	Compact bool
}

// Texts makes a row of plain cells.
func Texts(s ...string) []Cell {
	out := make([]Cell, len(s))
	for i, v := range s {
		out[i] = Cell{Text: v}
	}
	return out
}

func (t Table) html(*renderCtx) template.HTML {
	var b strings.Builder
	cls := "tbl"
	if t.Compact {
		cls += " compact"
	}
	fmt.Fprintf(&b, `<div class="tblwrap"><table class="%s"><thead><tr>`, cls)
	for i, c := range t.Columns {
		fmt.Fprintf(&b, `<th%s>%s</th>`, numAttr(t.Numeric[i]), esc(c))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for _, r := range t.Rows {
		b.WriteString(`<tr>`)
		for i, c := range r {
			class := string(c.Tone)
			if t.Numeric[i] {
				class += " num"
			}
			fmt.Fprintf(&b, `<td class="%s">`, esc(strings.TrimSpace(class)))
			if c.Bar > 0 {
				fmt.Fprintf(&b, `<span class="bar" style="width:%.1f%%"></span>`, 100*math.Min(1, c.Bar))
			}
			if c.Link != "" {
				fmt.Fprintf(&b, `<a href="#%s">%s</a>`, esc(c.Link), esc(c.Text))
			} else if c.Tone != Neutral && !t.Numeric[i] {
				fmt.Fprintf(&b, `<span class="badge %s">%s</span>`, esc(string(c.Tone)), esc(c.Text))
			} else {
				b.WriteString(`<span>` + esc(c.Text) + `</span>`)
			}
			b.WriteString(`</td>`)
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div>`)
	return template.HTML(b.String())
}

func numAttr(n bool) string {
	if n {
		return ` class="num"`
	}
	return ""
}

// Chart is an ECharts chart; Option is the ECharts option object
// (marshalled to JSON), usually from one of the builders.
type Chart struct {
	Option any
	// Height in pixels (default 280).
	Height int
	// Title is shown above the chart.
	Title string
}

func (c Chart) html(ctx *renderCtx) template.HTML {
	ctx.charts++
	h := c.Height
	if h <= 0 {
		h = 280
	}
	js, err := json.Marshal(c.Option)
	if err != nil {
		return template.HTML(`<div class="note bad">chart: ` + esc(err.Error()) + `</div>`)
	}
	var b strings.Builder
	b.WriteString(`<figure class="chart">`)
	if c.Title != "" {
		fmt.Fprintf(&b, `<figcaption>%s</figcaption>`, esc(c.Title))
	}
	// json.Marshal escapes <, > and & so the option cannot close the script.
	fmt.Fprintf(&b, `<div class="ec" id="ec%d" style="height:%dpx"></div><script type="application/json" data-chart="ec%d">%s</script></figure>`, ctx.charts, h, ctx.charts, js)
	return template.HTML(b.String())
}

// Note is a paragraph of text.
type Note struct {
	Text string
	Tone Tone
}

func (n Note) html(*renderCtx) template.HTML {
	return template.HTML(fmt.Sprintf(`<p class="para %s">%s</p>`, esc(string(n.Tone)), esc(n.Text)))
}

// Heading is a small heading inside a section.
type Heading string

func (h Heading) html(*renderCtx) template.HTML {
	return template.HTML(`<h3>` + esc(string(h)) + `</h3>`)
}

// Grid lays blocks out side by side (Columns per row, default 2).
type Grid struct {
	Columns int
	Blocks  []Block
}

func (g Grid) html(ctx *renderCtx) template.HTML {
	n := g.Columns
	if n <= 0 {
		n = 2
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<div class="grid" style="grid-template-columns:repeat(%d,minmax(0,1fr))">`, n)
	for _, bl := range g.Blocks {
		b.WriteString(`<div>`)
		b.WriteString(string(bl.html(ctx)))
		b.WriteString(`</div>`)
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

// HTML is trusted markup inserted as is.
type HTML template.HTML

func (h HTML) html(*renderCtx) template.HTML { return template.HTML(h) }

// Warnings is a list of flagged messages with tones.
type Warnings []Card

func (w Warnings) html(*renderCtx) template.HTML {
	if len(w) == 0 {
		return `<p class="para good">Nothing flagged.</p>`
	}
	var b strings.Builder
	b.WriteString(`<ul class="warnings">`)
	for _, x := range w {
		fmt.Fprintf(&b, `<li class="%s"><span class="badge %s">%s</span>`, esc(string(x.Tone)), esc(string(x.Tone)), esc(x.Label))
		if x.Note != "" {
			fmt.Fprintf(&b, `<a class="col" href="#%s">%s</a>`, esc(Anchor("col-"+x.Note)), esc(x.Note))
		}
		fmt.Fprintf(&b, `<span class="msg">%s</span></li>`, esc(x.Value))
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// Anchor turns a title into an HTML id.
func Anchor(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "_%x", r)
		}
	}
	return b.String()
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gyre">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head><body>
<nav class="side"><div class="brand">gyre</div>
{{range .Sections}}<a class="{{if .Sub}}sub{{end}}" href="#{{.ID}}">{{.Title}}{{if .Badge}} <span class="dot {{.Tone}}"></span>{{end}}</a>
{{end}}</nav>
<main>
<header><h1>{{.Title}}</h1>{{if .Subtitle}}<div class="subtitle">{{.Subtitle}}</div>{{end}}</header>
{{range .Body}}<section id="{{.ID}}" class="{{if .Sub}}sub{{end}}"><h2>{{.Title}}{{if .Badge}} <span class="badge {{.Tone}}">{{.Badge}}</span>{{end}}</h2>
{{.HTML}}
</section>
{{end}}
<footer>Generated by Gyre{{if .Generated}} on {{.Generated}}{{end}}. Self-contained: charts by Apache ECharts, embedded.</footer>
</main>
<script>{{.EChartsJS}}</script>
<script>{{.InitJS}}</script>
</body></html>
`))

const initJS = `(function(){
var made={};
function make(el){ if(made[el.id]) return; made[el.id]=1;
  var s=document.querySelector('script[data-chart="'+el.id+'"]'); if(!s) return;
  var opt=JSON.parse(s.textContent);
  var c=echarts.init(el,null,{renderer:'canvas'}); c.setOption(opt);
  window.addEventListener('resize',function(){c.resize();});
}
var els=document.querySelectorAll('.ec');
if('IntersectionObserver' in window){
  var io=new IntersectionObserver(function(es){es.forEach(function(e){if(e.isIntersecting){make(e.target);io.unobserve(e.target);}});},{rootMargin:'400px'});
  els.forEach(function(el){io.observe(el);});
} else { els.forEach(make); }
})();`

const css = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2933;background:#f5f7fa}
nav.side{position:fixed;top:0;left:0;bottom:0;width:220px;overflow-y:auto;background:#1f2a37;color:#cbd2d9;padding:16px 0}
nav.side .brand{font-weight:700;font-size:18px;color:#fff;padding:0 18px 12px;letter-spacing:.5px}
nav.side a{display:block;color:#cbd2d9;text-decoration:none;padding:4px 18px;font-size:13px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
nav.side a.sub{padding-left:32px;font-size:12px;color:#9aa5b1}
nav.side a:hover{background:#323f4b;color:#fff}
main{margin-left:220px;padding:24px 32px 48px;max-width:1400px}
header h1{margin:0 0 4px;font-size:24px}
.subtitle{color:#616e7c;margin-bottom:8px}
section{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:16px 20px;margin:16px 0}
section.sub{margin:10px 0}
h2{font-size:18px;margin:0 0 12px}
h3{font-size:14px;margin:14px 0 6px;color:#3e4c59}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:6px 0 10px}
.card{border:1px solid #e4e7eb;border-radius:8px;padding:10px 12px;background:#fafbfc;border-left:4px solid #9aa5b1}
.card .label{font-size:12px;color:#616e7c;text-transform:uppercase;letter-spacing:.3px}
.card .value{font-size:20px;font-weight:600;margin-top:2px;word-break:break-word}
.card .note{font-size:12px;color:#7b8794}
.card.good{border-left-color:#3ebd93}.card.info{border-left-color:#2186eb}.card.warn{border-left-color:#f0b429}.card.bad{border-left-color:#e12d39}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:10px;background:#e4e7eb;color:#3e4c59;vertical-align:middle}
.badge.good{background:#c6f7e2;color:#014d40}.badge.info{background:#dceefb;color:#084c8d}.badge.warn{background:#fff3c4;color:#8d2b0b}.badge.bad{background:#ffe3e3;color:#8a041a}
.dot{display:inline-block;width:7px;height:7px;border-radius:50%;background:#9aa5b1}
.dot.good{background:#3ebd93}.dot.info{background:#2186eb}.dot.warn{background:#f0b429}.dot.bad{background:#e12d39}
ul.warnings{list-style:none;margin:0;padding:0}
ul.warnings li{padding:6px 4px;border-bottom:1px solid #f0f2f5;display:flex;gap:10px;align-items:baseline}
ul.warnings .col{font-weight:600;color:#1f2933;text-decoration:none;min-width:120px}
ul.warnings .badge{min-width:62px;text-align:center}
.tblwrap{overflow-x:auto}
table.tbl{border-collapse:collapse;width:100%;font-size:13px}
table.tbl.compact{font-size:12px}
table.tbl th{text-align:left;font-weight:600;color:#52606d;border-bottom:2px solid #e4e7eb;padding:5px 8px;white-space:nowrap}
table.tbl td{border-bottom:1px solid #f0f2f5;padding:4px 8px;position:relative}
table.tbl .num{text-align:right;font-variant-numeric:tabular-nums}
table.tbl td .bar{position:absolute;left:0;top:3px;bottom:3px;background:#dceefb;z-index:0;border-radius:2px}
table.tbl td a,table.tbl td span{position:relative;z-index:1}
table.tbl td a{color:#0b69a3;text-decoration:none}
table.tbl tr:hover td{background:#f8fafc}
.grid{display:grid;gap:16px;align-items:start}
figure.chart{margin:0}
figure.chart figcaption{font-size:12px;color:#616e7c;margin-bottom:2px}
.ec{width:100%}
.para{margin:6px 0;color:#3e4c59}.para.bad{color:#ab091e}.para.good{color:#0c6b58}
footer{color:#9aa5b1;font-size:12px;margin-top:24px}
@media (max-width:900px){nav.side{display:none}main{margin-left:0}.grid{grid-template-columns:1fr!important}}
`

// Render writes the page as one self-contained HTML document.
func (p *Page) Render(w io.Writer) error {
	ctx := &renderCtx{}
	type body struct {
		ID, Title, Badge string
		Tone             Tone
		Sub              bool
		HTML             template.HTML
	}
	var bodies []body
	for _, s := range p.Sections {
		if s.ID == "" {
			s.ID = Anchor(s.Title)
		}
		var b strings.Builder
		for _, bl := range s.Blocks {
			b.WriteString(string(bl.html(ctx)))
			b.WriteByte('\n')
		}
		bodies = append(bodies, body{s.ID, s.Title, s.Badge, s.Tone, s.Sub, template.HTML(b.String())})
	}
	gen := ""
	if !p.Generated.IsZero() {
		gen = p.Generated.UTC().Format("2006-01-02 15:04 UTC")
	}
	err := pageTmpl.Execute(w, map[string]any{
		"Title": p.Title, "Subtitle": p.Subtitle, "Sections": p.Sections, "Body": bodies, "Generated": gen,
		"CSS": template.CSS(css), "EChartsJS": template.JS(echartsJS), "InitJS": template.JS(initJS),
	})
	if err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	return nil
}

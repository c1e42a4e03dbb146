// Package report renders self-contained HTML reports: one file that opens
// offline, with ECharts (vendored from npm, echarts@6.1.0, Apache-2.0,
// assets/echarts.min.js) embedded in the page.
//
// It is a small toolkit that every feature's report builds on: a Page of
// Sections made of Blocks (Cards, Table, Chart, Note, Grid, raw trusted
// HTML), chart-option builders that turn Go data into ECharts options
// (Histogram, Bars, Heatmap, Lines, Scatter) and escaping that is safe by
// construction (text goes through html/template; chart options are JSON in
// <script type="application/json">, with <, > and & escaped). Charts are
// initialised lazily as they scroll into view, so pages with hundreds of
// charts open quickly; builders keep data aggregated (bins, counts, sampled
// points), never raw rows.
//
// Four pages are built with it here: ProfilePage (gyre profile),
// ValidationPage (gyre validate), EvaluationPage (gyre evaluate) and
// SearchPage (gyre automl, with the evaluation of its test data). The
// monitoring report is built by package monitor from the same blocks.
package report

package report

import _ "embed"

//go:embed assets/ECHARTS-LICENSE
var echartsLicense string

// ECharts returns the embedded ECharts library (echarts.min.js, 6.1.0),
// for pages that load it as a file rather than inline: the web UI serves
// this same copy.
func ECharts() string { return echartsJS }

// EChartsLicense returns ECharts' licence text (Apache-2.0), served beside
// the library.
func EChartsLicense() string { return echartsLicense }

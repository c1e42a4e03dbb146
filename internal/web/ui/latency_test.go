package ui_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/serve"
)

// traffic is what serveTraffic sent: the requests and rows answered, and
// the slowest request as the client timed it.
type traffic struct {
	requests, rows int
	slowest        time.Duration
}

// serveTraffic serves version 2 of titanic with gyre serve's server (package
// serve, logging every request to the store's prediction log), sends it n
// prediction requests over HTTP, of one to three passengers of titanic's
// test file (one-row requests take the server's single-row path, the
// others the general one), and stops it, which stores the log.
func (e *env) serveTraffic(n int) traffic {
	t := e.t
	t.Helper()
	b, err := bundle.Decode(titanicBundle(t))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New([]serve.Model{{Name: "titanic", Ref: "titanic@production", Bundle: b, Version: "2"}},
		serve.Options{Log: predlog.New(e.db, e.blobs), Sample: 1, GCPercent: -1, ReloadInterval: 0})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	records := titanicRecords(t)
	var out traffic
	url := "http://" + ln.Addr().String() + "/v1/models/titanic/predict"
	for i := range n {
		k := 1 + i%3
		lo := (i * 3) % (len(records) - 3)
		body, _ := json.Marshal(map[string]any{"records": records[lo : lo+k]})
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-Id", fmt.Sprintf("live-%d", i))
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %s: %s", i, resp.Status, msg)
		}
		out.requests++
		out.rows += k
		out.slowest = max(out.slowest, took)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	return out
}

// titanicRecords is titanic's test file as JSON records: numbers as
// numbers, empty cells as null.
func titanicRecords(t testing.TB) []map[string]any {
	f, err := os.Open(titanicTest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range recs[1:] {
		m := map[string]any{}
		for j, h := range recs[0] {
			switch v, err := strconv.ParseFloat(r[j], 64); {
			case r[j] == "":
				m[h] = nil
			case err == nil:
				m[h] = v
			default:
				m[h] = r[j]
			}
		}
		out = append(out, m)
	}
	return out
}

// TestLatencyFromServe drives real traffic through gyre serve's server and
// reads it back through the team server's latency view: every request
// counted once with its latency, the rows of multi-row requests counted
// as rows, and the percentiles ordered and no slower than the client saw.
func TestLatencyFromServe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.reg.Register(ctx, "titanic", registry.RegisterOptions{Bundle: bytes.NewReader(titanicBundle(t))}); err != nil {
		t.Fatal(err)
	}
	sent := e.serveTraffic(60)
	req, _ := http.NewRequest("GET", e.URL+"/api/v1/models/titanic/latency?days=1&step=1m&goal=p99_latency+%3C%3D+250ms&goal=roc_auc+%3E%3D+0.8", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["vic"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("latency view: %s: %s", resp.Status, msg)
	}
	var lat struct {
		Step     string   `json:"step"`
		Requests int      `json:"requests"`
		Timed    int      `json:"timed"`
		GoalP99  *float64 `json:"goal_p99_ms"`
		Buckets  []struct {
			Start          time.Time
			Requests, Rows int
			Timed          int
			P50            *float64 `json:"p50_ms"`
			P95            *float64 `json:"p95_ms"`
			P99            *float64 `json:"p99_ms"`
			Max            *float64 `json:"max_ms"`
		} `json:"buckets"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&lat); err != nil {
		t.Fatal(err)
	}
	if lat.Requests != sent.requests || lat.Timed != sent.requests || lat.Step != "1m0s" || lat.GoalP99 == nil || *lat.GoalP99 != 250 {
		t.Fatalf("latency view: %d requests, %d timed, step %s, goal %v; want %d, %d, 1m0s, 250", lat.Requests, lat.Timed, lat.Step, lat.GoalP99, sent.requests, sent.requests)
	}
	rows := 0
	for _, b := range lat.Buckets {
		rows += b.Rows
		if b.Timed == 0 {
			continue
		}
		if b.P50 == nil || b.P95 == nil || b.P99 == nil || b.Max == nil {
			t.Fatalf("bucket %v has %d timed requests and no percentiles", b.Start, b.Timed)
		}
		if !(*b.P50 > 0 && *b.P50 <= *b.P95 && *b.P95 <= *b.P99 && *b.P99 <= *b.Max) {
			t.Errorf("bucket %v: p50 %v, p95 %v, p99 %v, max %v: want 0 < p50 ≤ p95 ≤ p99 ≤ max", b.Start, *b.P50, *b.P95, *b.P99, *b.Max)
		}
		if max := time.Duration(*b.Max * 1e6); max > sent.slowest {
			t.Errorf("bucket %v: the server logged %v, slower than the slowest request the client timed (%v)", b.Start, max, sent.slowest)
		}
	}
	if rows != sent.rows {
		t.Errorf("the buckets hold %d rows, want the %d sent", rows, sent.rows)
	}
}

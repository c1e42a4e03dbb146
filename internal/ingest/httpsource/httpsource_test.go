package httpsource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// api serves 23 records in pages of 5 in the style the mode asks for, and
// requires "Authorization: Bearer s3cret-t0ken".
func api(t *testing.T, mode string) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	const total, size = 23, 5
	records := func(from int) []map[string]any {
		var out []map[string]any
		for i := from; i < min(total, from+size); i++ {
			out = append(out, map[string]any{"id": i, "user": map[string]any{"name": fmt.Sprintf("u%d", i)}, "score": float64(i) / 2})
		}
		return out
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "Bearer s3cret-t0ken" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		switch mode {
		case "cursor":
			from, _ := strconv.Atoi(q.Get("after"))
			next := ""
			if from+size < total {
				next = strconv.Itoa(from + size)
			}
			json.NewEncoder(w).Encode(map[string]any{"data": records(from), "meta": map[string]any{"next": next}})
		case "link":
			from, _ := strconv.Atoi(q.Get("from"))
			if from+size < total {
				w.Header().Set("Link", fmt.Sprintf(`<%s/items?from=%d>; rel="next", <%s/items?from=0>; rel="first"`, srv.URL, from+size, srv.URL))
			}
			json.NewEncoder(w).Encode(records(from))
		case "offset":
			from, _ := strconv.Atoi(q.Get("offset"))
			if q.Get("limit") != "5" {
				http.Error(w, "limit", http.StatusBadRequest)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"count": total, "results": records(from)})
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func pull(t *testing.T, src string, o Options) ([]map[string]any, Stats, error) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Pull(context.Background(), src, o, &buf)
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out, st, err
}

func TestPaginationModes(t *testing.T) {
	t.Setenv("GYRE_TEST_API_AUTH", "Bearer s3cret-t0ken")
	auth := map[string]string{"Authorization": "GYRE_TEST_API_AUTH"}
	for _, c := range []struct{ mode, paginate, path string }{
		{"cursor", "cursor:meta.next:after", "/items"},
		{"link", "link", "/items"},
		{"offset", "offset", "/items?limit=5"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			srv, hits := api(t, c.mode)
			recs, st, err := pull(t, srv.URL+c.path, Options{Paginate: c.paginate, HeaderEnv: auth})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 23 || st.Records != 23 {
				t.Fatalf("got %d records (%+v), want 23", len(recs), st)
			}
			for i, r := range recs {
				if r["id"] != float64(i) {
					t.Fatalf("record %d: id %v (out of order or repeated)", i, r["id"])
				}
			}
			if want := int64(5); c.mode != "offset" && hits.Load() != want {
				t.Errorf("%d requests, want %d", hits.Load(), want)
			}
		})
	}
}

func TestRetriesRateLimitAndCredentials(t *testing.T) {
	var hits atomic.Int64
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		times = append(times, time.Now())
		if n <= 2 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page > 2 {
			fmt.Fprint(w, `{"items":[]}`)
			return
		}
		fmt.Fprintf(w, `{"items":[{"page":%d}]}`, page)
	}))
	defer srv.Close()
	recs, st, err := pull(t, srv.URL, Options{Paginate: "page", Backoff: 10 * time.Millisecond, Rate: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || st.Retries != 2 || st.Pages != 3 {
		t.Errorf("got %d records, %+v; want 2 records, 2 retries, 3 pages", len(recs), st)
	}
	// Spacing is checked from the second request on: the first one's
	// arrival carries the connection's setup, which shortens the first gap
	// as the server sees it although the client waited its 50 ms.
	for i := 2; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 45*time.Millisecond {
			t.Errorf("requests %d and %d %s apart, want ≥ 50 ms at 20/s", i, i+1, gap)
		}
	}

	// A server that keeps failing: the error says so after the retries.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer bad.Close()
	_, _, err = pull(t, bad.URL+"/x?api_key=k3y-value", Options{Paginate: "page", Retries: 2, Backoff: time.Millisecond})
	var pe *Error
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "after 2 retries") {
		t.Errorf("failing server: got %v", err)
	}

	// Refused credentials: not retried, and the secret is never printed.
	srvAuth, _ := api(t, "cursor")
	t.Setenv("GYRE_TEST_API_AUTH", "Bearer wrong-battery-staple")
	_, st, err = pull(t, "http://user:pa55word@"+strings.TrimPrefix(srvAuth.URL, "http://")+"/items",
		Options{Paginate: "cursor:meta.next", HeaderEnv: map[string]string{"Authorization": "GYRE_TEST_API_AUTH"}})
	if err == nil || st.Retries != 0 || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "Authorization") {
		t.Fatalf("wrong credentials: got %v (%+v)", err, st)
	}
	for _, secret := range []string{"wrong-battery-staple", "pa55word"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
	if _, _, err := pull(t, srvAuth.URL, Options{Paginate: "cursor:x", HeaderEnv: map[string]string{"Authorization": "GYRE_TEST_UNSET_VAR"}}); err == nil || !strings.Contains(err.Error(), "GYRE_TEST_UNSET_VAR") {
		t.Errorf("unset variable: got %v", err)
	}
	if _, _, err := pull(t, srvAuth.URL, Options{Paginate: "scroll"}); err == nil || !strings.Contains(err.Error(), "want link") {
		t.Errorf("bad mode: got %v", err)
	}
}

package serve

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"
)

// TestProfileServer is not a test but a harness for CPU profiles of the
// server under load: with GYRE_PROFILE_ADDR set it serves the adult GBDT
// (GYRE_SERVE_BUNDLE, or one trained on the example data) on that address
// for 14 s, e.g.
//
//	GYRE_SERVE_BUNDLE=adult300.gyre GYRE_PROFILE_ADDR=127.0.0.1:18095 \
//	  go test ./internal/serve -run TestProfileServer -cpuprofile serve.prof &
//	sleep 3; BODY_FILE=bench/serve/request.json wrk -t1 -c64 -d10s -s bench/serve/post.lua http://127.0.0.1:18095
//
// Without it, it is skipped.
func TestProfileServer(t *testing.T) {
	addr := os.Getenv("GYRE_PROFILE_ADDR")
	if addr == "" {
		t.Skip("GYRE_PROFILE_ADDR not set: profiling harness only")
	}
	s, err := New([]Model{{Name: "adult", Bundle: adultGBDT(t), Version: "1"}}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 14*time.Second)
	defer cancel()
	if err := s.ListenAndServe(ctx, addr, nil); err != nil {
		t.Fatal(err)
	}
}

package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

func newRegistry(t *testing.T, db *sqlstore.DB) *registry.Registry {
	t.Helper()
	bs, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := registry.New(db, bs)
	r.User = "tester"
	return r
}

func TestRegisterResolveAlias(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		reg := newRegistry(t, db)
		v1, err := reg.Register(ctx, "adult-income", registry.RegisterOptions{Bundle: strings.NewReader("bundle one"), RunID: "run1",
			Datasets: []registry.DatasetVersion{{Name: "adult", Version: 1}}, ModelDescription: "income classifier"})
		if err != nil {
			t.Fatal(err)
		}
		v2, err := reg.Register(ctx, "adult-income", registry.RegisterOptions{Bundle: strings.NewReader("bundle two"), RunID: "run2"})
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || v2.Version != 2 || v1.RunID != "run1" || len(v1.Datasets) != 1 || v1.CreatedBy != "tester" {
			t.Fatalf("versions = %+v, %+v", v1, v2)
		}
		if err := reg.SetAlias(ctx, "adult-income", "production", 1); err != nil {
			t.Fatal(err)
		}
		if err := reg.SetAlias(ctx, "adult-income", "production", 2); err != nil {
			t.Fatal(err)
		}
		if err := reg.SetAlias(ctx, "adult-income", "staging", 2); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			ref  string
			want int64
		}{
			{"adult-income", 2},
			{"adult-income/1", 1},
			{"adult-income@production", 2},
			{"models:/adult-income/1", 1},
			{"models:/adult-income@staging", 2},
		}
		for _, tt := range tests {
			v, err := reg.Resolve(ctx, tt.ref)
			if err != nil || v.Version != tt.want {
				t.Errorf("Resolve(%q) = %v, %v; want version %d", tt.ref, v, err, tt.want)
			}
		}
		for _, ref := range []string{"nope", "adult-income/9", "adult-income@canary", "nope@production"} {
			if _, err := reg.Resolve(ctx, ref); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("Resolve(%q) err = %v; want ErrNotFound", ref, err)
			}
		}
		for _, ref := range []string{"../etc", "a/b/c", "a/0", "a@", "", "models:/", "a@../x"} {
			if _, err := reg.Resolve(ctx, ref); err == nil || errors.Is(err, registry.ErrNotFound) {
				t.Errorf("Resolve(%q) err = %v; want a malformed reference error", ref, err)
			}
		}
		v, _ := reg.Resolve(ctx, "adult-income@production")
		rc, err := reg.OpenBundle(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "bundle two" {
			t.Errorf("bundle = %q", b)
		}
		hist, err := reg.AliasHistory(ctx, "adult-income")
		if err != nil || len(hist) != 3 {
			t.Fatalf("history = %+v, %v; want 3 events", hist, err)
		}
		if h := hist[1]; h.Alias != "production" || h.From != 1 || h.To != 2 || h.User != "tester" {
			t.Errorf("second event = %+v; want production 1 -> 2 by tester", h)
		}
		if err := reg.SetAlias(ctx, "adult-income", "production", 7); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("alias to a missing version: %v", err)
		}
		if err := reg.SetAlias(ctx, "adult-income", "3", 1); !errors.Is(err, registry.ErrInvalidName) {
			t.Errorf("numeric alias: %v", err)
		}
		if err := reg.DeleteAlias(ctx, "adult-income", "staging"); err != nil {
			t.Fatal(err)
		}
		if err := reg.SetTag(ctx, "adult-income", "owner", "risk-team"); err != nil {
			t.Fatal(err)
		}
		m, err := reg.Model(ctx, "adult-income")
		if err != nil || m.Description != "income classifier" || m.Tags["owner"] != "risk-team" || m.Aliases["production"] != 2 || len(m.Aliases) != 1 {
			t.Errorf("model = %+v, %v", m, err)
		}
		if err := reg.DeleteVersion(ctx, "adult-income", 2); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Resolve(ctx, "adult-income@production"); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("alias survived its version's deletion: %v", err)
		}
		v3, err := reg.Register(ctx, "adult-income", registry.RegisterOptions{BundleRef: v2.Bundle})
		if err != nil || v3.Version != 3 {
			t.Fatalf("register after delete = %+v, %v; want version 3 (numbers are not reused)", v3, err)
		}
		if err := reg.DeleteModel(ctx, "adult-income"); err != nil {
			t.Fatal(err)
		}
		if ms, _ := reg.Models(ctx); len(ms) != 0 {
			t.Errorf("models after delete = %+v", ms)
		}
		if hist, _ := reg.AliasHistory(ctx, "adult-income"); len(hist) < 4 {
			t.Errorf("audit trail lost on delete: %+v", hist)
		}
	})
}

func TestNames(t *testing.T) {
	for _, n := range []string{"a", "adult-income", "m_1.2", "X9"} {
		if err := registry.CheckName("model", n); err != nil {
			t.Errorf("CheckName(%q) = %v", n, err)
		}
	}
	for _, n := range []string{"", ".", "..", "../x", "a/b", `a\b`, "-a", ".hidden", "a b", "é", strings.Repeat("a", 129)} {
		if err := registry.CheckName("model", n); !errors.Is(err, registry.ErrInvalidName) {
			t.Errorf("CheckName(%q) = %v; want ErrInvalidName", n, err)
		}
	}
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		reg := newRegistry(t, db)
		if _, err := reg.Register(ctx, "../../etc/passwd", registry.RegisterOptions{Bundle: strings.NewReader("x")}); !errors.Is(err, registry.ErrInvalidName) {
			t.Errorf("Register with a traversal name: %v", err)
		}
	})
}

func TestConcurrentRegister(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		reg := newRegistry(t, db)
		var wg sync.WaitGroup
		const n = 16
		got := make([]int64, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := reg.Register(ctx, "m", registry.RegisterOptions{Bundle: strings.NewReader(fmt.Sprint("bundle ", i))})
				errs[i] = err
				if err == nil {
					got[i] = v.Version
				}
			}()
		}
		wg.Wait()
		seen := map[int64]bool{}
		for i := range got {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if seen[got[i]] || got[i] < 1 || got[i] > n {
				t.Fatalf("versions %v: duplicate or out of range", got)
			}
			seen[got[i]] = true
		}
	})
}

// Crash safety: a helper process registers in a loop and is killed with
// SIGKILL at a random moment; every version row must then point at a
// complete, readable bundle.

const helperEnv = "GYRE_REGISTRY_TEST_HELPER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		db, blobs, _ := strings.Cut(spec, "|")
		os.Exit(helperRegister(db, blobs))
	}
	os.Exit(m.Run())
}

func helperRegister(dbURL, blobDir string) int {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bs, err := blob.Open(ctx, blobDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	reg := registry.New(db, bs)
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	for i := 0; ; i++ {
		big := make([]byte, 256<<10+rng.IntN(1<<20)) // big enough to be caught mid-write
		for j := range big {
			big[j] = byte(rng.UintN(256))
		}
		if _, err := reg.Register(ctx, "crashy", registry.RegisterOptions{Bundle: bytes.NewReader(big), RunID: fmt.Sprint(i)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
}

func TestSIGKILLDuringRegister(t *testing.T) {
	if testing.Short() {
		t.Skip("kills subprocesses")
	}
	ctx := context.Background()
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := sqlstoretest.Open(t, b)
			blobDir := t.TempDir()
			rng := rand.New(rand.NewPCG(42, 7))
			for round := 0; round < 4; round++ {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), helperEnv+"="+b.URL+"|"+blobDir)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(150+rng.IntN(600)) * time.Millisecond)
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				if strings.TrimSpace(stderr.String()) != "" {
					t.Fatalf("helper failed before the kill: %s", stderr.String())
				}
			}
			bs, _ := blob.OpenDir(blobDir)
			reg := registry.New(db, bs)
			vs, err := reg.Versions(ctx, "crashy")
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) == 0 {
				t.Fatal("no version registered before the kills: lengthen the delay")
			}
			for _, v := range vs {
				rc, err := reg.OpenBundle(ctx, &v)
				if err != nil {
					t.Fatalf("version %d: %v", v.Version, err)
				}
				n, err := io.Copy(io.Discard, rc)
				rc.Close()
				if err != nil || n != v.Bundle.Size {
					t.Fatalf("version %d: read %d of %d bytes: %v", v.Version, n, v.Bundle.Size, err)
				}
			}
			t.Logf("%d versions survived 4 SIGKILLs intact", len(vs))
		})
	}
}

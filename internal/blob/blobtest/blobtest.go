// Package blobtest is the conformance suite every blob.Store backend must
// pass: round trips, content addressing, idempotent puts, missing objects,
// corrupt digests, concurrent puts of the same content and cancellation.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
)

// Run runs the conformance suite against the store returned by open, which
// is called once per subtest and should return an empty store.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	payload := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t)
		for _, n := range []int{0, 1, 4096, 3<<20 + 7} {
			data := payload(n)
			ref, err := s.Put(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Put(%d bytes): %v", n, err)
			}
			sum := sha256.Sum256(data)
			if want := "sha256:" + hex.EncodeToString(sum[:]); ref.Digest != want || ref.Size != int64(n) {
				t.Fatalf("Put = %+v; want {%s %d}", ref, want, n)
			}
			rc, err := s.Get(ctx, ref.Digest)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Get read %d bytes, err %v; want %d identical bytes", len(got), err, n)
			}
			st, err := s.Stat(ctx, ref.Digest)
			if err != nil || st != ref {
				t.Fatalf("Stat = %+v, %v; want %+v", st, err, ref)
			}
			if ok, err := blob.Exists(ctx, s, ref.Digest); !ok || err != nil {
				t.Fatalf("Exists = %v, %v; want true", ok, err)
			}
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		s := open(t)
		data := payload(1000)
		a, err := s.Put(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Put(ctx, bytes.NewReader(data))
		if err != nil || a != b {
			t.Fatalf("second Put = %+v, %v; want %+v", b, err, a)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		s := open(t)
		d := "sha256:" + hex.EncodeToString(make([]byte, 32))
		if _, err := s.Get(ctx, d); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(missing) error = %v; want ErrNotFound", err)
		}
		if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(missing) error = %v; want ErrNotFound", err)
		}
		if ok, err := blob.Exists(ctx, s, d); ok || err != nil {
			t.Errorf("Exists(missing) = %v, %v; want false, nil", ok, err)
		}
		if err := s.Delete(ctx, d); err != nil {
			t.Errorf("Delete(missing) = %v; want nil", err)
		}
	})
	t.Run("BadDigest", func(t *testing.T) {
		s := open(t)
		for _, d := range []string{"", "sha256:abc", "md5:" + hex.EncodeToString(make([]byte, 32)), "sha256:../../../../etc/passwd" + hex.EncodeToString(make([]byte, 22))} {
			if _, err := s.Get(ctx, d); err == nil || errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Get(%q) error = %v; want an invalid digest error", d, err)
			}
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		ref, err := s.Put(ctx, bytes.NewReader([]byte("delete me")))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, ref.Digest); err != nil {
			t.Fatal(err)
		}
		if ok, _ := blob.Exists(ctx, s, ref.Digest); ok {
			t.Fatal("object still exists after Delete")
		}
	})
	t.Run("ConcurrentSameContent", func(t *testing.T) {
		s := open(t)
		data := payload(256 << 10)
		var wg sync.WaitGroup
		refs := make([]blob.Ref, 6)
		errs := make([]error, len(refs))
		for i := range refs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				refs[i], errs[i] = s.Put(ctx, bytes.NewReader(data))
			}()
		}
		wg.Wait()
		for i := range refs {
			if errs[i] != nil || refs[i] != refs[0] {
				t.Fatalf("Put %d = %+v, %v; want %+v", i, refs[i], errs[i], refs[0])
			}
		}
		rc, err := s.Get(ctx, refs[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, %v", len(got), err)
		}
	})
	t.Run("List", func(t *testing.T) { testList(t, open(t), payload) })
	t.Run("FailedPutLeavesNothing", func(t *testing.T) {
		s := open(t)
		data := payload(10000)
		boom := errors.New("reader broke")
		_, err := s.Put(ctx, io.MultiReader(bytes.NewReader(data[:5000]), errReader{boom}))
		if !errors.Is(err, boom) {
			t.Fatalf("Put with a failing reader = %v; want the reader's error", err)
		}
		for _, d := range [][]byte{data[:5000], data} {
			ref, _ := blob.Digest(bytes.NewReader(d))
			if ok, _ := blob.Exists(ctx, s, ref.Digest); ok {
				t.Fatalf("a failed Put left object %s", ref.Digest)
			}
		}
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// testList checks that a store lists what it holds, stops when the
// callback fails, and forgets deleted objects.
func testList(t *testing.T, s blob.Store, payload func(int) []byte) {
	ctx := context.Background()
	l, ok := s.(blob.Lister)
	if !ok {
		t.Fatalf("%T does not implement blob.Lister (garbage collection needs it)", s)
	}
	want := map[string]int64{}
	before := time.Now().Add(-time.Minute)
	for _, n := range []int{0, 10, 5000} {
		ref, err := s.Put(ctx, bytes.NewReader(payload(n)))
		if err != nil {
			t.Fatal(err)
		}
		want[ref.Digest] = ref.Size
	}
	got := map[string]int64{}
	err := l.List(ctx, func(o blob.Object) error {
		if o.Modified.Before(before) || o.Modified.After(time.Now().Add(time.Minute)) {
			t.Errorf("object %s modified %v: want about now", o.Digest, o.Modified)
		}
		got[o.Digest] = o.Size
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("List gave %v; want %v", got, want)
	}
	for d, n := range want {
		if got[d] != n {
			t.Fatalf("List gave %v; want %v", got, want)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := l.List(ctx, func(blob.Object) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("List with a failing callback: %v after %d calls; want its error after 1", err, calls)
	}
	for d := range want {
		if err := s.Delete(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.List(ctx, func(o blob.Object) error { return fmt.Errorf("deleted object %s listed", o.Digest) }); err != nil {
		t.Fatal(err)
	}
}

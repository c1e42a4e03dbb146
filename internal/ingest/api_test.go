package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/httpsource"
)

// TestReadPagedAPI reads a cursor-paged JSON API into one frame: nested
// fields flattened, types inferred, every page in order.
func TestReadPagedAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		next := `"` + strconv.Itoa(from+10) + `"`
		if from+10 >= 35 {
			next = "null"
		}
		fmt.Fprint(w, `{"data":[`)
		for i := from; i < min(35, from+10); i++ {
			if i > from {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"id":%d,"geo":{"lat":%d.5},"kind":"k%d"}`, i, i, i%3)
		}
		fmt.Fprintf(w, `],"next_cursor":%s}`, next)
	}))
	defer srv.Close()
	f, err := Read(context.Background(), srv.URL+"/v1/things", Options{API: httpsource.Options{Paginate: "cursor:next_cursor"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 35 || f.Index("geo.lat") < 0 || f.Col(f.Index("geo.lat")).Kind() != frame.KindFloat || f.Col(f.Index("id")).Format(34) != "34" {
		t.Errorf("got %d rows, columns %v", f.NumRows(), f.Names())
	}
}

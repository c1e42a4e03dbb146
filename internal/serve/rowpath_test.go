package serve

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// rowSeeds are single-row bodies the row path accepts, and near misses it
// must hand to the general path (escapes, coercions, duplicates, missing
// columns, extra rows, trailing data, malformed JSON).
var rowSeeds = []string{
	`{"records": [` + passenger + `]}`,
	`{"dataframe_records": [` + passenger + `]}`,
	`{"dataframe_split": {"columns": ["Pclass","Name","Sex","Age","SibSp","Parch","Ticket","Fare","Cabin","Embarked"], "data": [[3,"Doe, Mr. John","male",22,1,0,"A/5 21171",7.25,null,"S"]]}}`,
	`  {"dataframe_split":{"columns":["Embarked","Cabin","Fare","Ticket","Parch","SibSp","Age","Sex","Name","Pclass","extra"],"data":[["Q","C85",71.2833,"PC 17599",0,1,38.5e0,"female","Mrs. X",1,{"a":1}]]}}  `,
	`{"dataframe_split": {"columns": ["Pclass","Name","Sex","Age","SibSp","Parch","Ticket","Fare","Cabin","Embarked","extra"], "data": [[3,"x","male",-0.5,1,0,"t",1E2,"C","S",true]]}}`,
	`{"dataframe_split": {"columns": ["Pclass","Name","Sex","Age","SibSp","Parch","Ticket","Fare","Cabin","Embarked"], "data": [[3,"x","male",22,1,0,"t",7.25,null,"S"],[1,"y","female",30,0,0,"u",80,"C85","C"]]}}`,
	`{"dataframe_split": {"data": [[3,"x","male",22,1,0,"t",7.25,null,"S"]], "columns": ["Pclass","Name","Sex","Age","SibSp","Parch","Ticket","Fare","Cabin","Embarked"]}}`,
	`{"records": [{"Pclass": 3, "Name": "x", "Sex": "m\u00e9le", "Age": 22, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	`{"records": [{"Pclass": "3", "Name": "x", "Sex": "male", "Age": 22, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	`{"records": [{"Pclass": 3, "Name": 12, "Sex": true, "Age": null, "SibSp": 1, "Parch": 0, "Ticket": false, "Fare": 0, "Cabin": 1.5, "Embarked": "Z", "other": [1]}]}`,
	`{"records": [{"Pclass": 3, "Name": "x", "Sex": "male", "Age": 22, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S", "other": "y"}]}`,
	`{"records": [{"Pclass": 3, "Name": "x", "Sex": "male", "Age": 22, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null}]}`,
	`{"records": [{"Pclass": 3, "Pclass": 1, "Name": "x", "Sex": "male", "Age": 22, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	`{"records": [{"Pclass": 3, "Name": "x", "Sex": "male", "Age": 1e999, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	`{"records": [{"Pclass": 3, "Name": "x", "Sex": "male", "Age": true, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	`{"records": [{"Pclass": 3, "Name": "x", "Sex": "male", "Age": 01, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	`{"records": [` + passenger + `]} x`,
	`{"records": [` + passenger + `], "columns": {}}`,
	`{"records": []}`,
	`{"records": [` + passenger + `,` + passenger + `]}`,
	`{"records": [{"Pclass": 3, "Name": "a\"b", "Sex": "male", "Age": 22, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	`{"records": [{"Pclass": 3, "Name": "` + "\xff" + `", "Sex": "male", "Age": 22, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	`{"records": [{}]}`,
	`{"records": {}}`,
	`{"dataframe_split": {"columns": [], "data": [[]]}}`,
	`{"dataframe_split": {"columns": ["Pclass","Name","Sex","Age","SibSp","Parch","Ticket","Fare","Cabin","Embarked"], "data": [[3,"x","male",22,1,0,"t",7.25,null]]}}`,
	`{"dataframe_split": {"columns": ["Pclass","Name","Sex","Age","SibSp","Parch","Ticket","Fare","Cabin","Embarked"], "data": [[3,"x","male",22,1,0,"t",7.25,null,"S",9]]}}`,
	`{"dataframe_split": {"columns": ["Pclass","Name","Sex","Age","SibSp","Parch","Ticket","Fare","Cabin","Embarked","Age"], "data": [[3,"x","male",22,1,0,"t",7.25,null,"S",5]]}}`,
	`{"dataframe_split": {"columns": ["Pclass","Name","Sex","Age","SibSp","Parch","Ticket","Fare","Cabin","Embarked"], "data": [[3,"x","male",22,1,0,"t",7.25,null,"S"]], "index": [0]}}`,
	`{"dataframe_records": [` + passenger + `], "instances": []}`,
	`{"dataframe_split": {"columns": ["Pclass","Name","Sex","Age","SibSp","Parch","Ticket","Fare","Cabin","Embarked"], "data": [[3,"x","male",22,1,0,"t",7.25,null,"S"]]}`,
	`{"records": [` + strings.TrimSuffix(passenger, "}"),
	`{"records": [{"Pclass": 3, "Name": "x", "Sex": "male", "Age": -, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	`{"records": [{"Pclass": 3, "Name": "x", "Sex": "male", "Age": nul, "SibSp": 1, "Parch": 0, "Ticket": "t", "Fare": 7.25, "Cabin": null, "Embarked": "S"}]}`,
	``,
	`null`,
	v2Passenger(`"id": "fixed", `, `"shape": [1], "datatype": "$DT", `, ``),
	v2Passenger(``, ``, ``),
	v2Passenger(`"id": "a", `, `"datatype": "BYTES", "shape": [1, 1], `, `, "parameters": {}`),
	v2Passenger(`"id": "a", "parameters": {"content_type": "pd"}, `, ``, ``),
	v2Passenger(`"id": null, `, `"shape": [], `, ``),
	v2Passenger(``, `"shape": [2], `, ``),
	v2Passenger(``, `"shape": [1.0], `, ``),
	v2Passenger(``, `"shape": [10], `, ``),
	v2Passenger(``, `"shape": [1], "shape": [1], `, ``),
	`{"inputs": [{"name": "Pclass", "data": [3]}]}`,
	`{"inputs": [{"data": [3], "name": "Pclass"}]}`,
	`{"inputs": []}`,
	`{"id": "x", "inputs": [{"name": "Pclass", "shape": [1], "data": [3]}], "id": "y"}`,
	`{"inputs": [{"name": "Pclass", "shape": [1], "datatype": "FP64", "data": [3]}, {"name": "Name", "shape": [1], "datatype": "BYTES", "data": ["x"]}, {"name": "Sex", "shape": [1], "datatype": "BYTES", "data": ["male"]}, {"name": "Age", "shape": [1], "datatype": "FP64", "data": [22]}, {"name": "SibSp", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "Parch", "shape": [1], "datatype": "FP64", "data": [0]}, {"name": "Ticket", "shape": [1], "datatype": "BYTES", "data": ["t"]}, {"name": "Fare", "shape": [1], "datatype": "FP64", "data": [7.25]}, {"name": "Cabin", "shape": [1], "datatype": "BYTES", "data": [null]}, {"name": "Embarked", "shape": [1], "datatype": "BYTES", "data": ["S", "Q"]}]}`,
	`{"inputs": [{"name": "Pclass", "shape": [1], "datatype": "FP64", "data": [3]}, {"name": "Name", "shape": [1], "datatype": "BYTES", "data": ["x"]}, {"name": "Sex", "shape": [1], "datatype": "BYTES", "data": ["male"]}, {"name": "Age", "shape": [1], "datatype": "FP64", "data": [22]}, {"name": "SibSp", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "Parch", "shape": [1], "datatype": "FP64", "data": [0]}, {"name": "Ticket", "shape": [1], "datatype": "BYTES", "data": ["t"]}, {"name": "Fare", "shape": [1], "datatype": "FP64", "data": [7.25]}, {"name": "Cabin", "shape": [1], "datatype": "BYTES", "data": [null]}, {"name": "Embarked", "shape": [1], "datatype": "BYTES", "data": ["S"]}, {"name": "x", "data": [1]}]}`,
}

// v2Passenger is the passenger as a V2 request with one input per column:
// top goes before "inputs", mid between each input's name and data (with
// $DT replaced by the column's datatype), tail after its data.
func v2Passenger(top, mid, tail string) string {
	cols := []struct{ name, value string }{{"Pclass", "3"}, {"Name", `"Doe, Mr. John"`}, {"Sex", `"male"`}, {"Age", "22"}, {"SibSp", "1"},
		{"Parch", "0"}, {"Ticket", `"A/5 21171"`}, {"Fare", "7.25"}, {"Cabin", "null"}, {"Embarked", `"S"`}}
	var b strings.Builder
	b.WriteString("{" + top + `"inputs": [`)
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		dt := "FP64"
		if c.value == "null" || strings.HasPrefix(c.value, `"`) {
			dt = "BYTES"
		}
		b.WriteString(`{"name": "` + c.name + `", ` + strings.ReplaceAll(mid, "$DT", dt) + `"data": [` + c.value + `]` + tail + `}`)
	}
	b.WriteString("]}")
	return b.String()
}

// randomID matches a generated request id in a V2 response.
var randomID = regexp.MustCompile(`"id":"[0-9a-f]{24}"`)

// rowServers are two servers on the titanic GBDT: one with the row path,
// one forced onto the general path.
func rowServers(t testing.TB, opt Options) (fast, slow *Server) {
	b := bundles(t)
	opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	var err error
	if fast, err = New([]Model{{Name: "titanic", Bundle: b[0], Version: "1"}}, opt); err != nil {
		t.Fatal(err)
	}
	if fast.models["titanic"].cur.Load().row == nil {
		t.Fatal("the titanic GBDT has no row path")
	}
	if slow, err = New([]Model{{Name: "titanic", Bundle: b[0], Version: "1"}}, opt); err != nil {
		t.Fatal(err)
	}
	e := slow.models["titanic"]
	general := *e.cur.Load()
	general.row = nil
	e.cur.Store(&general)
	return fast, slow
}

// sameResponse posts body to path on both servers and fails unless status,
// content type and body bytes agree.
func sameResponse(t *testing.T, fast, slow *Server, path, body string) {
	t.Helper()
	do := func(s *Server) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Request-Id", "fixed")
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		return w
	}
	f, s := do(fast), do(slow)
	fb := randomID.ReplaceAll(f.Body.Bytes(), []byte(`"id":"random"`))
	sb := randomID.ReplaceAll(s.Body.Bytes(), []byte(`"id":"random"`))
	if f.Code != s.Code || f.Header().Get("Content-Type") != s.Header().Get("Content-Type") || !bytes.Equal(fb, sb) {
		t.Fatalf("POST %s %q:\nrow path     %d %s\ngeneral path %d %s", path, body, f.Code, f.Body, s.Code, s.Body)
	}
}

func TestRowPathMatches(t *testing.T) {
	fast, slow := rowServers(t, Options{})
	for _, body := range rowSeeds {
		for _, path := range []string{"/invocations", "/v1/models/titanic/predict", "/v2/models/titanic/infer"} {
			sameResponse(t, fast, slow, path, body)
		}
	}
}

func TestRowPathLogsTheSameRecords(t *testing.T) {
	logs := [2]*memLog{{}, {}}
	b := bundles(t)
	for i, body := range rowSeeds[:5] {
		for j, noRow := range []bool{false, true} {
			s, err := New([]Model{{Name: "titanic", Bundle: b[0], Version: "1"}}, Options{Log: logs[j], Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if noRow {
				e := s.models["titanic"]
				general := *e.cur.Load()
				general.row = nil
				e.cur.Store(&general)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, newPipeListener(), nil) }()
			path := "/invocations"
			if strings.HasPrefix(body, `{"records"`) {
				path = "/v1/models/titanic/predict"
			}
			r := httptest.NewRequest("POST", path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, r)
			if w.Code != 200 {
				t.Fatalf("body %d: %d %s", i, w.Code, w.Body)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(logs[0].recs) != len(logs[1].recs) || len(logs[0].recs) == 0 {
		t.Fatalf("logged %d records on the row path, %d on the general path", len(logs[0].recs), len(logs[1].recs))
	}
	for i := range logs[0].recs {
		a, b := logs[0].recs[i], logs[1].recs[i]
		if a.Input != b.Input || a.Output != b.Output || a.Model != b.Model || a.Version != b.Version || a.Time.IsZero() {
			t.Errorf("record %d:\nrow path     %s → %s\ngeneral path %s → %s", i, a.Input, a.Output, b.Input, b.Output)
		}
	}
}

// pipeListener is a listener that never accepts, for running Serve's
// background goroutines (the prediction log) in a test.
type pipeListener struct{ done chan struct{} }

func newPipeListener() *pipeListener { return &pipeListener{done: make(chan struct{})} }

func (l *pipeListener) Accept() (net.Conn, error) {
	<-l.done
	return nil, net.ErrClosed
}
func (l *pipeListener) Close() error {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// FuzzRowPath checks that the row path and the general path answer every
// body identically.
func FuzzRowPath(f *testing.F) {
	for i, s := range rowSeeds {
		f.Add(s, uint8(i))
	}
	fast, slow := rowServers(f, Options{})
	paths := []string{"/invocations", "/v1/models/titanic/predict", "/v2/models/titanic/infer"}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		sameResponse(t, fast, slow, paths[int(which)%len(paths)], body)
	})
}

// TestRowPathAccepts checks the common single-row shapes take the row path
// (so TestRowPathMatches compares the two paths on them).
func TestRowPathAccepts(t *testing.T) {
	fast, _ := rowServers(t, Options{})
	plan := fast.models["titanic"].cur.Load().row
	for i, body := range []string{rowSeeds[1], rowSeeds[2], rowSeeds[4]} {
		row := plan.rp.Get()
		if !plan.decodeMLflowRow([]byte(body), row) {
			t.Errorf("MLflow body %d took the general path: %s", i, body)
		}
		plan.rp.Put(row)
	}
	for i, body := range []string{rowSeeds[0], rowSeeds[10]} {
		row := plan.rp.Get()
		if !plan.decodeGyreRow([]byte(body), row) {
			t.Errorf("Gyre body %d took the general path: %s", i, body)
		}
		plan.rp.Put(row)
	}
	for i, body := range []string{v2Passenger(`"id": "fixed", `, `"shape": [1], "datatype": "$DT", `, ``), v2Passenger(``, ``, ``), v2Passenger(``, `"shape": [1, 1], `, ``)} {
		row := plan.rp.Get()
		if _, ok := plan.decodeV2Row([]byte(body), row); !ok {
			t.Errorf("V2 body %d took the general path: %s", i, body)
		}
		plan.rp.Put(row)
	}
}

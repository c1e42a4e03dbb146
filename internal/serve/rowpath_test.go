package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
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
}

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
	if f.Code != s.Code || f.Header().Get("Content-Type") != s.Header().Get("Content-Type") || !bytes.Equal(f.Body.Bytes(), s.Body.Bytes()) {
		t.Fatalf("POST %s %q:\nrow path     %d %s\ngeneral path %d %s", path, body, f.Code, f.Body, s.Code, s.Body)
	}
}

func TestRowPathMatches(t *testing.T) {
	fast, slow := rowServers(t, Options{})
	for _, body := range rowSeeds {
		for _, path := range []string{"/invocations", "/v1/models/titanic/predict"} {
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
		if !jsonEqual(a.Input, b.Input) || !jsonEqual(a.Output, b.Output) || a.Model != b.Model || a.Version != b.Version || a.Time.IsZero() {
			t.Errorf("record %d:\nrow path     %s → %s\ngeneral path %s → %s", i, a.Input, a.Output, b.Input, b.Output)
		}
	}
}

func jsonEqual(a, b json.RawMessage) bool { return bytes.Equal(a, b) }

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
	for _, s := range rowSeeds {
		f.Add(s, false)
	}
	fast, slow := rowServers(f, Options{})
	f.Fuzz(func(t *testing.T, body string, gyre bool) {
		path := "/invocations"
		if gyre {
			path = "/v1/models/titanic/predict"
		}
		sameResponse(t, fast, slow, path, body)
	})
}

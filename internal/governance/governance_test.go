package governance_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/governance"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/validate"
)

const contractYAML = `version: 1
columns:
  - {name: age, type: float}
  - {name: email, type: string, pii: hash}
  - {name: ssn, type: string, pii: drop}
`

func customers() *frame.Frame {
	email := &frame.String{ColName: "email", Values: []string{"ann@example.com", "bob@example.com", "ann@example.com", ""}, Valid: frame.NewValidity(4)}
	email.Valid.SetNull(3)
	return frame.MustNew(frame.NewFloat("age", []float64{31, 45, 31, 60}), email,
		frame.NewString("ssn", []string{"078-05-1120", "219-09-9999", "078-05-1120", "457-55-5462"}))
}

// TestMaskingLog logs a batch through the masking log on every backend and
// reads it back: the hashed column holds keyed hashes (equal values equal,
// missing kept missing, no raw value), the dropped column is gone, the
// rest untouched; the salt is the store's own.
func TestMaskingLog(t *testing.T) {
	ctx := context.Background()
	c, err := validate.ParseContract([]byte(contractYAML), "contract.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var firstSalt string
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := sqlstoretest.Open(t, b)
			bs, err := blob.OpenDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			m, err := governance.ForContract(ctx, db, c)
			if err != nil {
				t.Fatal(err)
			}
			salt, err := governance.Salt(ctx, db)
			if err != nil || len(salt) != 32 {
				t.Fatalf("salt %x, %v", salt, err)
			}
			if again, _ := governance.Salt(ctx, db); string(again) != string(salt) {
				t.Fatal("the store's salt changed between calls")
			}
			if firstSalt != "" && firstSalt == string(salt) {
				t.Fatal("two stores share a salt")
			}
			firstSalt = string(salt)
			plog := predlog.New(db, bs)
			log := &governance.MaskingLog{Next: plog, Masker: m}
			in := customers()
			bl := predlog.NewBuilder("churn", "1", in.Schema(), nil)
			bl.AddFrame("req-1", time.Now(), in, &bundle.Prediction{Values: []float64{0.1, 0.2, 0.3, 0.4}})
			batch := bl.Batch()
			if err := log.LogPredictions(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if batch.Input.Index("ssn") < 0 {
				t.Fatal("the caller's batch was modified")
			}
			got, err := plog.Read(ctx, predlog.Query{Model: "churn"}, in.Schema(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != 4 {
				t.Fatalf("read %d rows, want 4", got.Len())
			}
			email, _ := got.Input.Column("email")
			ssn, _ := got.Input.Column("ssn")
			age, _ := got.Input.Column("age")
			for i := range 4 {
				if ssn != nil && !ssn.IsNull(i) {
					t.Errorf("row %d: dropped column ssn logged as %q", i, ssn.Format(i))
				}
				if age.Format(i) != in.Col(0).Format(i) {
					t.Errorf("row %d: age %s, want %s", i, age.Format(i), in.Col(0).Format(i))
				}
			}
			if !strings.HasPrefix(email.Format(0), "pii:") || len(email.Format(0)) != 36 || strings.Contains(email.Format(0), "ann") {
				t.Errorf("email logged as %q, want a keyed hash", email.Format(0))
			}
			if email.Format(0) != email.Format(2) || email.Format(0) == email.Format(1) || !email.IsNull(3) {
				t.Errorf("hashes %q %q %q (null %v): want equal values equal, others differ, missing kept", email.Format(0), email.Format(1), email.Format(2), email.IsNull(3))
			}
			if email.Format(0) != m.Hash("ann@example.com") {
				t.Error("the logged hash is not the masker's")
			}
		})
	}
}

func TestContractPIIField(t *testing.T) {
	_, err := validate.ParseContract([]byte("version: 1\ncolumns:\n  - {name: email, type: string, pii: encrypt}\n"), "c.yaml")
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "want hash or drop") {
		t.Errorf("bad pii value: %v; want an error naming line 3 and the choices", err)
	}
	if _, err := governance.NewMasker(map[string]validate.Mask{"email": validate.MaskHash}, nil); err == nil {
		t.Error("hashing without a salt was accepted")
	}
}

package governance_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gyre-ml/gyre/internal/governance"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/validate"
)

// TestContractMaskerReports checks the masker a report is made with: the
// salt asked once and only when a column is hashed, its failure a
// *SaltError, HashFunc set only with a hashed column, and saved profiles
// refused (*UnmaskedError) unless their PII columns are masked.
func TestContractMaskerReports(t *testing.T) {
	ctx := context.Background()
	c, err := validate.ParseContract([]byte(contractYAML), "contract.yaml")
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	salt := func(context.Context) ([]byte, error) { asked++; return make([]byte, 32), nil }
	m, err := governance.ContractMasker(ctx, c, salt)
	if err != nil || m == nil || asked != 1 {
		t.Fatalf("ContractMasker: %v, %v, salt asked %d times; want a masker, the salt asked once", m, err, asked)
	}
	if m.HashFunc() == nil {
		t.Error("HashFunc of a contract hashing email is nil")
	}
	boom := errors.New("store down")
	_, err = governance.ContractMasker(ctx, c, func(context.Context) ([]byte, error) { return nil, boom })
	if se := (*governance.SaltError)(nil); !errors.As(err, &se) || !errors.Is(err, boom) {
		t.Errorf("salt failing: %v; want a *SaltError wrapping it", err)
	}
	drops, _ := validate.ParseContract([]byte("version: 1\ncolumns:\n  - {name: ssn, type: string, pii: drop}\n"), "c.yaml")
	asked = 0
	if m, err := governance.ContractMasker(ctx, drops, salt); err != nil || asked != 0 || m.HashFunc() != nil {
		t.Errorf("drop only: %v, salt asked %d times, HashFunc set %t; want no salt and no hash", err, asked, m.HashFunc() != nil)
	}
	none, _ := validate.ParseContract([]byte("version: 1\ncolumns:\n  - {name: age, type: float}\n"), "c.yaml")
	if m, err := governance.ContractMasker(ctx, none, salt); m != nil || err != nil {
		t.Errorf("no PII: %v, %v; want nil, nil", m, err)
	}
	var nilMasker *governance.Masker
	if f, err := nilMasker.Frame(customers()); err != nil || f.NumCols() != 3 || nilMasker.HashFunc() != nil || nilMasker.CheckProfile(&profile.Profile{}) != nil {
		t.Error("a nil Masker must mask nothing and accept any profile")
	}

	raw, err := profile.Compute(ctx, customers(), profile.Options{NoRelations: true})
	if err != nil {
		t.Fatal(err)
	}
	var ue *governance.UnmaskedError
	if err := m.CheckProfile(raw); !errors.As(err, &ue) || ue.Column != "email" && ue.Column != "ssn" {
		t.Errorf("raw profile: %v; want an *UnmaskedError naming email or ssn", err)
	}
	masked, err := m.Frame(customers())
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Compute(ctx, masked, profile.Options{NoRelations: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckProfile(p); err != nil {
		t.Errorf("profile of the masked frame: %v; want it accepted", err)
	}
}

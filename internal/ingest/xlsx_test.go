package ingest

import (
	"archive/zip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
)

const xlsxDir = "../../testdata/ingest/xlsx"

// A workbook written by pandas/openpyxl reads as the CSV of the same table:
// numbers, text, booleans, dates and date-times typed, missing cells
// missing, numeric-looking text kept as text; ?sheet= picks a sheet.
func TestReadXLSX(t *testing.T) {
	ctx := context.Background()
	f, err := Read(ctx, filepath.Join(xlsxDir, "penguins.xlsx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Read(ctx, filepath.Join(xlsxDir, "penguins.csv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 69 || f.NumRows() != want.NumRows() || strings.Join(f.Names(), ",") != strings.Join(want.Names(), ",") {
		t.Fatalf("%d rows %v, want %d %v", f.NumRows(), f.Names(), want.NumRows(), want.Names())
	}
	kinds := map[string]frame.Kind{"bill_length_mm": frame.KindFloat, "flipper_length_mm": frame.KindInt, "species": frame.KindString,
		"zip": frame.KindString, "gentoo": frame.KindBool, "observed": frame.KindTime, "at": frame.KindTime}
	for name, k := range kinds {
		c, _ := f.Column(name)
		if c.Kind() != k {
			t.Errorf("%s is %s, want %s", name, c.Kind(), k)
		}
	}
	for _, name := range []string{"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "species", "gentoo"} {
		a, _ := f.Column(name)
		b, _ := want.Column(name)
		for i := range f.NumRows() {
			if a.IsNull(i) != b.IsNull(i) || (!a.IsNull(i) && a.Format(i) != b.Format(i)) {
				t.Fatalf("%s row %d: %q, CSV %q", name, i+1, a.Format(i), b.Format(i))
			}
		}
	}
	zip, _ := f.Column("zip")
	if zip.Format(7) != "007" {
		t.Errorf("zip row 8 = %q, want the text 007", zip.Format(7))
	}
	obs, _ := f.Column("observed")
	at, _ := f.Column("at")
	day0 := time.Date(2007, 11, 10, 0, 0, 0, 0, time.UTC)
	for i := range f.NumRows() {
		if got := time.Unix(0, obs.(*frame.Time).Values[i]).UTC(); !got.Equal(day0.AddDate(0, 0, i)) {
			t.Fatalf("observed row %d = %v", i+1, got)
		}
		if got := time.Unix(0, at.(*frame.Time).Values[i]).UTC(); !got.Equal(day0.Add(8*time.Hour + 30*time.Minute + time.Duration(37*i)*time.Minute)) {
			t.Fatalf("at row %d = %v", i+1, got)
		}
	}
	notes, err := Read(ctx, filepath.Join(xlsxDir, "penguins.xlsx")+"?sheet=notes", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if notes.NumRows() != 3 || strings.Join(notes.Names(), ",") != "key,value" {
		t.Errorf("notes: %d rows %v", notes.NumRows(), notes.Names())
	}
	// Stream gives the same rows.
	rows := 0
	if err := Stream(ctx, filepath.Join(xlsxDir, "penguins.xlsx"), Options{}, 20, func(c *Chunk) error { rows += c.Frame.NumRows(); return nil }); err != nil || rows != 69 {
		t.Errorf("stream: %d rows, %v", rows, err)
	}
}

// writeXLSX builds a workbook from parts.
func writeXLSX(t *testing.T, parts map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "book.xlsx")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(fh)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	return p
}

const (
	xlWorkbook = `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr date1904="1"/><sheets><sheet name="Data" sheetId="1" r:id="rId7"/></sheets></workbook>`
	xlRels     = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="worksheet" Target="/xl/worksheets/data.xml"/></Relationships>`
	xlStrings  = `<sst><si><t>name</t></si><si><t>when</t></si><si><r><t>Ada </t></r><r><rPr><b/></rPr><t>Lovelace</t></r><rPh><t>ignored</t></rPh></si><si><t>score</t></si></sst>`
	xlStyles   = `<styleSheet><numFmts count="1"><numFmt numFmtId="164" formatCode="d/m/yyyy\ h:mm"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="10"/></cellXfs></styleSheet>`
)

// Excel's own encodings: shared strings with rich-text runs, a custom
// date format on the 1904 date system, error cells, sparse cells placed
// by reference, a relationship target given as an absolute part name.
func TestReadXLSXEncodings(t *testing.T) {
	sheet := `<worksheet><sheetData>
<row r="2"><c r="B2" t="s"><v>0</v></c><c r="C2" t="s"><v>1</v></c><c r="E2" t="s"><v>3</v></c></row>
<row r="3"><c r="B3" t="s"><v>2</v></c><c r="C3" s="1"><v>0.5</v></c><c r="E3" s="2"><v>0.25</v></c></row>
<row r="5"><c r="B5" t="str"><v>formula text</v></c><c r="E5" t="e"><v>#DIV/0!</v></c></row>
</sheetData></worksheet>`
	p := writeXLSX(t, map[string]string{"xl/workbook.xml": xlWorkbook, "xl/_rels/workbook.xml.rels": xlRels,
		"xl/sharedStrings.xml": xlStrings, "xl/styles.xml": xlStyles, "xl/worksheets/data.xml": sheet})
	f, err := Read(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.Names(), ",") != "name,when,score" || f.NumRows() != 3 {
		t.Fatalf("columns %v, %d rows", f.Names(), f.NumRows())
	}
	name, _ := f.Column("name")
	if name.Format(0) != "Ada Lovelace" || !name.IsNull(1) || name.Format(2) != "formula text" {
		t.Errorf("name: %q %v %q", name.Format(0), name.IsNull(1), name.Format(2))
	}
	when, _ := f.Column("when")
	if when.Kind() != frame.KindTime || !time.Unix(0, when.(*frame.Time).Values[0]).UTC().Equal(time.Date(1904, 1, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("when: %s %s", when.Kind(), when.Format(0))
	}
	score, _ := f.Column("score")
	if score.Kind() != frame.KindFloat || score.Format(0) != "0.25" || !score.IsNull(2) {
		t.Errorf("score: %s %q, error cell missing: %v", score.Kind(), score.Format(0), score.IsNull(2))
	}
}

// Broken workbooks fail with the file named and what is wrong.
func TestReadXLSXBad(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(xlsxDir, "penguins.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.xlsx")
	os.WriteFile(cut, good[:len(good)/2], 0o600)
	noBook := writeXLSX(t, map[string]string{"word/document.xml": "<x/>"})
	empty := writeXLSX(t, map[string]string{"xl/workbook.xml": xlWorkbook, "xl/_rels/workbook.xml.rels": xlRels, "xl/worksheets/data.xml": `<worksheet><sheetData/></worksheet>`})
	badRef := writeXLSX(t, map[string]string{"xl/workbook.xml": xlWorkbook, "xl/_rels/workbook.xml.rels": xlRels,
		"xl/worksheets/data.xml": `<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>9</v></c></row></sheetData></worksheet>`})
	dup := writeXLSX(t, map[string]string{"xl/workbook.xml": xlWorkbook, "xl/_rels/workbook.xml.rels": xlRels,
		"xl/worksheets/data.xml": `<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>a</t></is></c></row></sheetData></worksheet>`})
	for _, c := range []struct{ path, want string }{
		{cut, "not a readable .xlsx"},
		{noBook, "no part xl/workbook.xml"},
		{empty, "the sheet is empty"},
		{badRef, "shared string \"9\" out of range"},
		{dup, "header \"a\" appears twice"},
		{filepath.Join(xlsxDir, "penguins.xlsx") + "?sheet=Sheet9", `no sheet "Sheet9"`},
	} {
		_, err := Read(context.Background(), c.path, Options{})
		if err == nil || !strings.Contains(err.Error(), filepath.Base(strings.Split(c.path, "?")[0])) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (want %q)", c.path, err, c.want)
		}
	}
	if _, err := Read(context.Background(), noBook, Options{}); !errors.Is(err, ErrFormat) {
		t.Errorf("not ErrFormat: %v", err)
	}
}

func TestDateFormats(t *testing.T) {
	for code, want := range map[string]bool{"yyyy-mm-dd": true, "d/m/yyyy\\ h:mm": true, "[h]:mm:ss": true, "0.00": false,
		`"Day "0`: false, "[Red]0.00": false, "General": false, "mmm-yy": true, "#,##0": false, `0.0_);\(0.0\)`: false} {
		if got := isDateFormat(code); got != want {
			t.Errorf("%q: %v, want %v", code, got, want)
		}
	}
}

package ingest

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
)

// This file reads Excel .xlsx workbooks (Office Open XML spreadsheets: a
// zip of XML parts) without a dependency: the workbook's sheet list and
// relationships, the shared strings, the styles' number formats (to tell
// dates from numbers) and one worksheet's cells. The first row is the
// header; each column becomes numbers (int when every value is whole),
// booleans, times (cells whose number format is a date or time, as Excel
// stores them: days since 1899-12-30, or 1904-01-01 for date1904
// workbooks) or text when any cell is text; empty and error cells are
// missing.

// maxXLSXPart caps one decompressed part (a zip bomb guard).
const maxXLSXPart = 1 << 30

// xlsxSource splits "book.xlsx?sheet=NAME" into the path and sheet name.
func xlsxSource(source string) (string, string, bool) {
	low := strings.ToLower(source)
	i := strings.Index(low, ".xlsx?")
	if i < 0 {
		return source, "", false
	}
	p, q := source[:i+len(".xlsx")], source[i+len(".xlsx?"):]
	for _, kv := range strings.Split(q, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "sheet" {
			return p, v, true
		}
	}
	return p, "", true
}

// sheetQuery gives back the ?sheet= suffix of a source.
func sheetQuery(sheet string) string {
	if sheet == "" {
		return ""
	}
	return "?sheet=" + sheet
}

// isXLSX reports whether the zip file at p is an Excel workbook.
func isXLSX(p string) bool {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return false
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == "xl/workbook.xml" {
			return true
		}
	}
	return false
}

type xlsxBook struct {
	zr       *zip.ReadCloser
	name     string
	files    map[string]*zip.File
	strings  []string
	dateFmt  []bool // per cellXfs index: a date/time format
	date1904 bool
}

func (b *xlsxBook) part(name string) (io.ReadCloser, error) {
	f := b.files[name]
	if f == nil {
		return nil, fmt.Errorf("read %s: %w: the workbook has no part %s (not an Excel .xlsx file?)", b.name, ErrFormat, name)
	}
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("read %s: part %s: %w", b.name, name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(r, maxXLSXPart), r}, nil
}

func (b *xlsxBook) decode(name string, v any) error {
	r, err := b.part(name)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := xml.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("read %s: %w: part %s: %w", b.name, ErrFormat, name, err)
	}
	return nil
}

// readXLSX reads sheet (the first when "") of the workbook at path.
func readXLSX(p, name, sheet string) (*frame.Frame, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w: not a readable .xlsx (zip) file: %w", name, ErrFormat, err)
	}
	defer zr.Close()
	b := &xlsxBook{zr: zr, name: name, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		b.files[strings.TrimPrefix(f.Name, "/")] = f
	}
	target, err := b.sheetPart(sheet)
	if err != nil {
		return nil, err
	}
	if b.files["xl/sharedStrings.xml"] != nil {
		if err := b.readStrings(); err != nil {
			return nil, err
		}
	}
	if b.files["xl/styles.xml"] != nil {
		if err := b.readStyles(); err != nil {
			return nil, err
		}
	}
	grid, err := b.readSheet(target)
	if err != nil {
		return nil, err
	}
	return b.frame(grid)
}

// sheetPart resolves a sheet name (or the first sheet) to its part.
func (b *xlsxBook) sheetPart(sheet string) (string, error) {
	var wb struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string     `xml:"name,attr"`
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := b.decode("xl/workbook.xml", &wb); err != nil {
		return "", err
	}
	b.date1904 = wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true"
	if len(wb.Sheets) == 0 {
		return "", fmt.Errorf("read %s: %w: the workbook lists no sheets", b.name, ErrFormat)
	}
	idx := 0
	if sheet != "" {
		idx = -1
		var names []string
		for i, s := range wb.Sheets {
			names = append(names, strconv.Quote(s.Name))
			if s.Name == sheet {
				idx = i
			}
		}
		if idx < 0 {
			return "", fmt.Errorf("read %s: no sheet %q (the workbook has %s)", b.name, sheet, strings.Join(names, ", "))
		}
	}
	rid := ""
	for _, a := range wb.Sheets[idx].Attrs {
		if a.Name.Local == "id" {
			rid = a.Value
		}
	}
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := b.decode("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return "", err
	}
	for _, r := range rels.Rel {
		if r.ID == rid {
			if strings.HasPrefix(r.Target, "/") {
				return strings.TrimPrefix(r.Target, "/"), nil
			}
			return path.Join("xl", r.Target), nil
		}
	}
	return "", fmt.Errorf("read %s: %w: sheet %q has no relationship %q in xl/_rels/workbook.xml.rels", b.name, ErrFormat, wb.Sheets[idx].Name, rid)
}

// readStrings reads the shared strings: each <si> is its <t> text, or the
// concatenated <t> of its rich-text runs (phonetic <rPh> runs left out).
func (b *xlsxBook) readStrings() error {
	r, err := b.part("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	defer r.Close()
	d := xml.NewDecoder(r)
	var cur strings.Builder
	inT, inPh, inSI := false, 0, false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w: xl/sharedStrings.xml: %w", b.name, ErrFormat, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
				cur.Reset()
			case "rPh":
				inPh++
			case "t":
				inT = inSI && inPh == 0
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				b.strings = append(b.strings, cur.String())
				inSI = false
			case "rPh":
				inPh--
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				cur.Write(t)
			}
		}
	}
}

// readStyles marks the cell formats whose number format shows a date or
// time: the built-in ones (14–22, 45–47) and custom codes with date or
// time tokens outside quotes and brackets.
func (b *xlsxBook) readStyles() error {
	var st struct {
		NumFmts []struct {
			ID   int    `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmt int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if err := b.decode("xl/styles.xml", &st); err != nil {
		return err
	}
	custom := map[int]bool{}
	for _, f := range st.NumFmts {
		custom[f.ID] = isDateFormat(f.Code)
	}
	for _, x := range st.Xfs {
		id := x.NumFmt
		date, ok := custom[id]
		if !ok {
			date = (id >= 14 && id <= 22) || (id >= 45 && id <= 47)
		}
		b.dateFmt = append(b.dateFmt, date)
	}
	return nil
}

// isDateFormat reports whether a number format code shows a date or time.
func isDateFormat(code string) bool {
	inQuote, inBracket := false, false
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case inQuote:
			inQuote = c != '"'
		case inBracket:
			if c == ']' {
				inBracket = false
			}
		case c == '"':
			inQuote = true
		case c == '[':
			// [h], [mm] and [ss] are elapsed-time formats.
			if j := strings.IndexByte(code[i:], ']'); j > 0 {
				if tok := strings.ToLower(code[i+1 : i+j]); strings.Trim(tok, "hms") == "" && tok != "" {
					return true
				}
			}
			inBracket = true
		case c == '\\' || c == '_' || c == '*':
			i++
		case strings.IndexByte("dmyhsDMYHS", c) >= 0:
			return true
		}
	}
	return false
}

// xlsxCell is one cell's value.
type xlsxCell struct {
	kind byte // 'n' number, 'd' date (number), 'b' bool, 's' text; 0 missing
	num  float64
	text string
}

// readSheet reads a worksheet's cells into rows (index by column).
func (b *xlsxBook) readSheet(part string) ([][]xlsxCell, error) {
	r, err := b.part(part)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	d := xml.NewDecoder(r)
	var rows [][]xlsxCell
	rowIdx, col := -1, 0
	var typ, ref, style string
	var val strings.Builder
	inV, inIS := false, false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w: %s: %w", b.name, ErrFormat, part, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				next := rowIdx + 1
				for _, a := range t.Attr {
					if a.Name.Local == "r" {
						if n, err := strconv.Atoi(a.Value); err == nil && n >= 1 {
							next = n - 1
						}
					}
				}
				if next <= rowIdx || next > 1<<20 {
					return nil, fmt.Errorf("read %s: %w: %s: row %d out of order", b.name, ErrFormat, part, next+1)
				}
				rowIdx, col = next, 0
				for len(rows) <= rowIdx {
					rows = append(rows, nil)
				}
			case "c":
				typ, ref, style = "n", "", ""
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "t":
						typ = a.Value
					case "r":
						ref = a.Value
					case "s":
						style = a.Value
					}
				}
				if ref != "" {
					c, err := columnOf(ref)
					if err != nil {
						return nil, fmt.Errorf("read %s: %w: %s: cell %q: %w", b.name, ErrFormat, part, ref, err)
					}
					col = c
				}
				val.Reset()
			case "v":
				inV = true
			case "is":
				inIS = true
			case "t":
				inV = inV || inIS
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "is":
				inIS = false
			case "t":
				if inIS {
					inV = false
				}
			case "c":
				if rowIdx < 0 {
					return nil, fmt.Errorf("read %s: %w: %s: a cell outside any row", b.name, ErrFormat, part)
				}
				cell, err := b.cell(typ, style, val.String())
				if err != nil {
					return nil, fmt.Errorf("read %s: row %d, cell %s: %w", b.name, rowIdx+1, cellName(ref, rowIdx, col), err)
				}
				row := rows[rowIdx]
				for len(row) <= col {
					row = append(row, xlsxCell{})
				}
				row[col] = cell
				rows[rowIdx] = row
				col++
			}
		case xml.CharData:
			if inV {
				val.Write(t)
			}
		}
	}
}

func cellName(ref string, row, col int) string {
	if ref != "" {
		return ref
	}
	return columnName(col) + strconv.Itoa(row+1)
}

// cell decodes one cell's value by its type attribute.
func (b *xlsxBook) cell(typ, style, v string) (xlsxCell, error) {
	switch typ {
	case "s":
		if v == "" {
			return xlsxCell{}, nil
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(b.strings) {
			return xlsxCell{}, fmt.Errorf("%w: shared string %q out of range (%d strings)", ErrFormat, v, len(b.strings))
		}
		return textCell(b.strings[i]), nil
	case "inlineStr", "str":
		return textCell(v), nil
	case "b":
		return xlsxCell{kind: 'b', num: map[bool]float64{true: 1}[strings.TrimSpace(v) == "1"]}, nil
	case "e":
		return xlsxCell{}, nil // #N/A, #DIV/0!, ...: missing
	case "d":
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
		if err != nil {
			if t, err = time.Parse("2006-01-02T15:04:05", strings.TrimSpace(v)); err != nil {
				return xlsxCell{}, fmt.Errorf("%w: date %q is not ISO 8601", ErrFormat, v)
			}
		}
		return xlsxCell{kind: 'd', num: float64(t.UnixNano())}, nil
	case "n", "":
		if strings.TrimSpace(v) == "" {
			return xlsxCell{}, nil
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return xlsxCell{}, fmt.Errorf("%w: %q is not a number", ErrFormat, v)
		}
		if s, err := strconv.Atoi(style); err == nil && s >= 0 && s < len(b.dateFmt) && b.dateFmt[s] {
			return xlsxCell{kind: 'd', num: float64(b.serialTime(f).UnixNano())}, nil
		}
		return xlsxCell{kind: 'n', num: f}, nil
	}
	return xlsxCell{}, fmt.Errorf("%w: unknown cell type %q", ErrFormat, typ)
}

// textCell is a text cell; empty text is missing, as in CSV.
func textCell(s string) xlsxCell {
	if s == "" {
		return xlsxCell{}
	}
	return xlsxCell{kind: 's', text: s}
}

// serialTime converts an Excel date serial to a UTC time (to the
// millisecond, as Excel shows it).
func (b *xlsxBook) serialTime(f float64) time.Time {
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if b.date1904 {
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	ms := math.Round(f * 86400e3)
	return epoch.Add(time.Duration(ms) * time.Millisecond)
}

// columnOf returns the 0-based column of a cell reference such as "AB12".
func columnOf(ref string) (int, error) {
	c := 0
	i := 0
	for ; i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z'; i++ {
		c = c*26 + int(ref[i]-'A'+1)
		if c > 1<<14 {
			return 0, errors.New("column beyond XFD")
		}
	}
	if i == 0 {
		return 0, errors.New("no column letters")
	}
	return c - 1, nil
}

func columnName(c int) string {
	s := ""
	for c++; c > 0; c = (c - 1) / 26 {
		s = string(rune('A'+(c-1)%26)) + s
	}
	return s
}

// frame builds the frame: the first non-empty row is the header.
func (b *xlsxBook) frame(rows [][]xlsxCell) (*frame.Frame, error) {
	hdr := -1
	for i, r := range rows {
		for _, c := range r {
			if c.kind != 0 {
				hdr = i
				break
			}
		}
		if hdr >= 0 {
			break
		}
	}
	if hdr < 0 {
		return nil, fmt.Errorf("read %s: %w: the sheet is empty (no header row)", b.name, ErrHeader)
	}
	data := rows[hdr+1:]
	for len(data) > 0 && emptyRow(data[len(data)-1]) {
		data = data[:len(data)-1]
	}
	width := 0
	for _, r := range rows[hdr:] {
		width = max(width, len(r))
	}
	seen := map[string]bool{}
	var cols []frame.Column
	for j := range width {
		name := ""
		if j < len(rows[hdr]) {
			name = strings.TrimSpace(formatCell(rows[hdr][j]))
		}
		if name == "" {
			used := false
			for _, r := range data {
				used = used || (j < len(r) && r[j].kind != 0)
			}
			if !used {
				continue // an empty column between or after the data
			}
			return nil, fmt.Errorf("read %s: %w: column %s has values but no header (row %d)", b.name, ErrHeader, columnName(j), hdr+1)
		}
		if seen[name] {
			return nil, fmt.Errorf("read %s: %w: header %q appears twice (row %d)", b.name, ErrHeader, name, hdr+1)
		}
		seen[name] = true
		cols = append(cols, xlsxColumn(name, data, j))
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", b.name, err)
	}
	return f, nil
}

func emptyRow(r []xlsxCell) bool {
	for _, c := range r {
		if c.kind != 0 {
			return false
		}
	}
	return true
}

// xlsxColumn types column j: text if any cell is text, else numbers,
// booleans or times when every value is one kind (mixed kinds read as
// text).
func xlsxColumn(name string, rows [][]xlsxCell, j int) frame.Column {
	n := len(rows)
	at := func(i int) xlsxCell {
		if j < len(rows[i]) {
			return rows[i][j]
		}
		return xlsxCell{}
	}
	kinds := map[byte]bool{}
	whole := true
	for i := range n {
		c := at(i)
		if c.kind != 0 {
			kinds[c.kind] = true
			whole = whole && c.kind == 'n' && c.num == math.Trunc(c.num) && math.Abs(c.num) < 1<<53
		}
	}
	valid := frame.NewValidity(n)
	for i := range n {
		if at(i).kind == 0 {
			valid.SetNull(i)
		}
	}
	if valid.NullCount(n) == 0 {
		valid = nil
	}
	kind := byte('s')
	if len(kinds) == 1 {
		for k := range kinds {
			kind = k
		}
	}
	switch {
	case len(kinds) == 0:
		vals := make([]string, n)
		return &frame.String{ColName: name, Values: vals, Valid: valid}
	case kind == 'n' && whole:
		vals := make([]int64, n)
		for i := range n {
			vals[i] = int64(at(i).num)
		}
		return &frame.Int{ColName: name, Values: vals, Valid: valid}
	case kind == 'n':
		vals := make([]float64, n)
		for i := range n {
			vals[i] = at(i).num
		}
		return &frame.Float{ColName: name, Values: vals, Valid: valid}
	case kind == 'b':
		vals := make([]bool, n)
		for i := range n {
			vals[i] = at(i).num == 1
		}
		return &frame.Bool{ColName: name, Values: vals, Valid: valid}
	case kind == 'd':
		vals := make([]int64, n)
		for i := range n {
			vals[i] = int64(at(i).num)
		}
		return &frame.Time{ColName: name, Values: vals, Valid: valid}
	}
	vals := make([]string, n)
	for i := range n {
		vals[i] = formatCell(at(i))
	}
	return &frame.String{ColName: name, Values: vals, Valid: valid}
}

// formatCell writes a cell as text (for headers and mixed columns).
func formatCell(c xlsxCell) string {
	switch c.kind {
	case 's':
		return c.text
	case 'n':
		return strconv.FormatFloat(c.num, 'g', -1, 64)
	case 'b':
		if c.num == 1 {
			return "TRUE"
		}
		return "FALSE"
	case 'd':
		return time.Unix(0, int64(c.num)).UTC().Format(time.RFC3339Nano)
	}
	return ""
}

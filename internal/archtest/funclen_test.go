package archtest

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// maxFuncLines is the longest a function may be, counted from its func
// line to its closing brace (issue 20's bar). Generated files (a "Code
// generated ... DO NOT EDIT." header) are exempt.
const maxFuncLines = 150

// longPending lists the functions over maxFuncLines in files another change
// is rewriting right now (issue 20: cli, monitor, the cli and access test
// suites), keyed "path:func". The list only shrinks: an entry that is no
// longer over the limit (or gone) fails the test until it is removed.
var longPending = map[string]string{}

// TestFunctionLength lists every function longer than maxFuncLines lines in
// the module's Go files (tests included, generated code excepted).
func TestFunctionLength(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	long := map[string]int{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if generated(src) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n > maxFuncLines {
				long[rel+":"+fn.Name.Name] = n
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range long {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := longPending[k]; !ok {
			t.Errorf("%s is %d lines, over %d: split it into functions that each do one thing", k, long[k], maxFuncLines)
		}
	}
	for k, why := range longPending {
		if _, ok := long[k]; !ok {
			t.Errorf("%s (%s) is no longer over %d lines: remove it from longPending", k, why, maxFuncLines)
		}
	}
}

// generated reports whether src carries Go's generated-code marker.
func generated(src []byte) bool {
	for line := range bytes.Lines(src) {
		if bytes.HasPrefix(line, []byte("// Code generated ")) && bytes.Contains(line, []byte("DO NOT EDIT")) {
			return true
		}
		if bytes.HasPrefix(line, []byte("package ")) {
			return false
		}
	}
	return false
}

package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// envReaders are the os functions that read the environment.
var envReaders = map[string]bool{"Getenv": true, "LookupEnv": true, "Environ": true, "ExpandEnv": true}

// envAllowed are the files, besides this package and tests, that may read
// the environment, and why.
var envAllowed = map[string]string{
	"pkg/web/engine.go": "GIN_MODE is gin's own variable, read by gin itself; web only leaves it alone when set",
	// The test helpers' packages: their variables (WANJIA_TEST_*) choose
	// the tests' databases, never the product's behaviour.
	"pkg/store/storetest/": "tests' database",
	"pkg/queue/queuetest/": "tests' Redis",
	// The load drill is not the product: it reads the server to make its
	// own database on (WANJIA_DATABASE_URL, as make load passes it) and
	// hands its environment on to the wanjia processes it starts, whose
	// settings pkg/config then reads.
	"cmd/wanjia-load/": "the drill's database server, and its children's environment",
}

// TestOnlyConfigReadsTheEnvironment: every setting is read here, with its
// validation, default and flag; a package that read a variable of its own
// would escape all three (and the README's table).
func TestOnlyConfigReadsTheEnvironment(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "node_modules" || rel == "pkg/config" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		for prefix := range envAllowed {
			if strings.HasPrefix(rel, prefix) {
				return nil
			}
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		os := ""
		for _, imp := range f.Imports {
			if imp.Path.Value == `"os"` {
				os = "os"
				if imp.Name != nil {
					os = imp.Name.Name
				}
			}
		}
		if os == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == os && envReaders[sel.Sel.Name] {
				t.Errorf("%s: os.%s outside pkg/config: add the setting to config.Config instead", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

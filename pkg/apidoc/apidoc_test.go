package apidoc

import (
	"fmt"
	"testing"
)

// TestNoEmptyValues: a YAML flow mapping whose plain description holds a
// comma ({type: string, description: a, b}) quietly turns the text after
// the comma into a key with no value. The document has no such nulls;
// `make api-lint` (Spectral) checks the rest.
func TestNoEmptyValues(t *testing.T) {
	if _, err := JSON(); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case nil:
			t.Errorf("%s: no value (a comma in a flow mapping? write the mapping in block style)", path)
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", doc)
}

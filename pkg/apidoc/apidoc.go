// Package apidoc embeds the OpenAPI 3 document of the HTTP API. It is kept
// as YAML for people to read and edit, and served as JSON, converted once.
package apidoc

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var source []byte

var (
	once    sync.Once
	docJSON []byte
	docErr  error
	doc     map[string]any
)

func load() {
	if docErr = yaml.Unmarshal(source, &doc); docErr != nil {
		docErr = fmt.Errorf("openapi.yaml: %w", docErr)
		return
	}
	docJSON, docErr = json.Marshal(doc)
}

// JSON returns the document as JSON.
func JSON() ([]byte, error) {
	once.Do(load)
	return docJSON, docErr
}

// Operations lists the documented operations as "METHOD /path" with the
// paths in OpenAPI form ("/api/v1/orgs/{org}").
func Operations() ([]string, error) {
	once.Do(load)
	if docErr != nil {
		return nil, docErr
	}
	paths, _ := doc["paths"].(map[string]any)
	var out []string
	for p, item := range paths {
		ops, _ := item.(map[string]any)
		for m := range ops {
			switch m {
			case "get", "post", "put", "patch", "delete", "head", "options":
				out = append(out, strings.ToUpper(m)+" "+p)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

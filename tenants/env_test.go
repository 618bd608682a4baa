package tenants_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// cheap keeps argon2 fast in tests.
var cheap = authn.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

// reloader stands in for the Redis watcher: it reloads the authorizer and
// counts how often it was told of a change.
type reloader struct {
	a  *authz.Authorizer
	mu sync.Mutex
	n  int
}

func (r *reloader) Changed(ctx context.Context) error {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
	return r.a.Reload(ctx)
}

func (r *reloader) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// newOrgs wires an orgs.Service over a fresh database, as pkg/app does.
func newOrgs(t testing.TB) (*orgs.Service, *reloader) {
	t.Helper()
	ctx := context.Background()
	svc := &orgs.Service{DB: storetest.New(t), Argon2: cheap}
	a, err := authz.New(ctx, orgs.Directory{DB: svc.DB})
	if err != nil {
		t.Fatalf("authz.New: %v", err)
	}
	svc.Authz = a
	n := &reloader{a: a}
	svc.Notify = n
	return svc, n
}

// demoDir copies the demo files into a temp dir, applying edits (file name
// → old → new; an empty file name adds no file), and returns the dir.
func demoDir(t testing.TB, edits ...edit) string {
	t.Helper()
	dir := t.TempDir()
	src, err := filepath.Glob("qixing/*.yaml")
	if err != nil || len(src) != 3 {
		t.Fatalf("demo files: %v %v", src, err)
	}
	for _, p := range src {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, filepath.Base(p), string(b))
	}
	for _, e := range edits {
		p := filepath.Join(dir, e.file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), e.old) {
			t.Fatalf("%s has no %q to edit", e.file, e.old)
		}
		writeFile(t, dir, e.file, strings.Replace(string(b), e.old, e.new, 1))
	}
	return dir
}

type edit struct{ file, old, new string }

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMasterKey(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef-key"
	dir := t.TempDir()

	fromEnv, err := (&Config{SecretKey: key, DatabaseURL: "postgres://db/x"}).MasterKey()
	if err != nil || len(fromEnv) != 32 {
		t.Fatalf("MasterKey = %x, %v", fromEnv, err)
	}
	if bytes.Contains(fromEnv, []byte(key[:16])) {
		t.Fatal("the master key is the raw setting, not derived from it")
	}
	// The same key from a file (trailing newline and all) gives the same bytes.
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := (&Config{SecretKeyFile: file, DatabaseURL: "postgres://db/x"}).MasterKey()
	if err != nil || !bytes.Equal(fromFile, fromEnv) {
		t.Fatalf("from file: %x, %v; want %x", fromFile, err, fromEnv)
	}
	other, err := (&Config{SecretKey: key + "!", DatabaseURL: "postgres://db/x"}).MasterKey()
	if err != nil || bytes.Equal(other, fromEnv) {
		t.Fatalf("another key gave the same master key (%v)", err)
	}

	// Errors say which setting, in one line.
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("tiny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*Config{
		"real mode without a key": {DatabaseURL: "postgres://db/x", DataDir: dir},
		"missing file":            {SecretKeyFile: filepath.Join(dir, "nope"), DatabaseURL: "postgres://db/x"},
		"short key in file":       {SecretKeyFile: short},
	} {
		_, err := c.MasterKey()
		if err == nil || !strings.Contains(err.Error(), "WANJIA_SECRET_KEY") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err = %v, want one line naming WANJIA_SECRET_KEY", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, SecretKeyFileName)); !os.IsNotExist(err) {
		t.Fatalf("real mode wrote a key into the data dir: %v", err)
	}
}

// Embedded mode with no key makes one on first start, private to the
// owner, and keeps using it.
func TestMasterKeyGeneratedInEmbeddedMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := &Config{DataDir: dir}
	first, err := c.MasterKey()
	if err != nil || len(first) != 32 {
		t.Fatalf("MasterKey = %x, %v", first, err)
	}
	st, err := os.Stat(filepath.Join(dir, SecretKeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	again, err := (&Config{DataDir: dir}).MasterKey()
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("second start: %x, %v; want the same key %x", again, err, first)
	}
	// A key given explicitly wins over the generated file.
	given, err := (&Config{DataDir: dir, SecretKey: strings.Repeat("z", 40)}).MasterKey()
	if err != nil || bytes.Equal(given, first) {
		t.Fatalf("WANJIA_SECRET_KEY did not win: %v", err)
	}
}

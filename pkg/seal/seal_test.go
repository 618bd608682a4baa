package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/wanjia/wanjia/pkg/seal"
)

func TestSealOpens(t *testing.T) {
	secret := bytes.Repeat([]byte("s"), 32)
	a, err := seal.New(secret, "purpose a")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := seal.New(secret, "purpose b")
	other, _ := seal.New(bytes.Repeat([]byte("o"), 32), "purpose a")
	s := a.Seal([]byte("hello"), []byte("row 1"))
	if bytes.Contains(s, []byte("hello")) {
		t.Fatal("sealed value holds the plain text")
	}
	if got, err := a.Open(s, []byte("row 1")); err != nil || string(got) != "hello" {
		t.Fatalf("open: %q %v", got, err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"another place":   func() ([]byte, error) { return a.Open(s, []byte("row 2")) },
		"another purpose": func() ([]byte, error) { return b.Open(s, []byte("row 1")) },
		"another secret":  func() ([]byte, error) { return other.Open(s, []byte("row 1")) },
		"too short":       func() ([]byte, error) { return a.Open(s[:5], []byte("row 1")) },
	} {
		if _, err := open(); !errors.Is(err, seal.ErrOpen) {
			t.Errorf("%s: %v, want ErrOpen", name, err)
		}
	}
	if _, err := seal.New([]byte("short"), "x"); err == nil {
		t.Error("a short secret was accepted")
	}
}

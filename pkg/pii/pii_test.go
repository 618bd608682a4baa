package pii

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/i18n"
)

var (
	phoneErrors = []*Error{ErrPhoneEmpty, ErrPhoneFormat, ErrMobileFormat, ErrLandlineFormat}
	idErrors    = []*Error{ErrIDLength, ErrIDChars, ErrIDRegion, ErrIDBirthDate, ErrIDChecksum}
)

func TestErrors(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range append(append([]*Error{}, phoneErrors...), idErrors...) {
		t.Run(e.Key, func(t *testing.T) {
			if seen[e.Key] {
				t.Fatal("duplicate key")
			}
			seen[e.Key] = true
			if !strings.HasPrefix(e.Key, "phone_") && !strings.HasPrefix(e.Key, "id_") {
				t.Error("key lacks the package's phone_ or id_ prefix")
			}
			if !strings.Contains(e.Error(), e.Key) {
				t.Errorf("Error() = %q does not name the key", e.Error())
			}
			// Callers wrap and unwrap: both errors.Is and errors.As must see
			// through a wrapper.
			wrapped := fmt.Errorf("row 3: %w", e)
			var got *Error
			if !errors.Is(wrapped, e) || !errors.As(wrapped, &got) || got.Key != e.Key {
				t.Error("errors.Is/As do not find the sentinel")
			}
			m, ok := i18n.Lookup(e.Key)
			if !ok || m.ZH == "" || m.EN == "" {
				t.Errorf("no zh-CN and en message registered: %+v", m)
			}
		})
	}
}

// checkErr asserts that a rejection is one of the parser's own sentinels.
func checkErr(t *testing.T, in string, err error, allowed []*Error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e == nil || e.Key == "" {
		t.Fatalf("%q: error %v is not an *Error with a key", in, err)
	}
	for _, a := range allowed {
		if e == a {
			return
		}
	}
	t.Fatalf("%q: error %v is not one of this parser's sentinels", in, err)
}

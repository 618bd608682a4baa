package authn

import "sync/atomic"

// What the external tests (package authn_test) need from the inside.

// testingSecret is every test's secret key.
var testingSecret = []byte("wanjia-test-secret-key-0123456789abcdef")

func testingKeyOptions() KeyOptions { return KeyOptions{Secret: testingSecret} }

// TestingKeyOptions are the key options of every test.
var TestingKeyOptions = testingKeyOptions

// CountPasswordChecks makes s count its password checks (each an argon2
// hash), so a test can tell how many attempts were really tried.
func CountPasswordChecks(s *Service) *atomic.Int64 {
	var n atomic.Int64
	s.checkPassword = func(hash, pw string) (bool, error) {
		n.Add(1)
		return CheckPassword(hash, pw)
	}
	return &n
}

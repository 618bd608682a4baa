package scope_test

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestMain runs the tests with storetest's golden databases (each test's
// migrated database is a copy of one), dropped at the end.
func TestMain(m *testing.M) { storetest.Main(m) }

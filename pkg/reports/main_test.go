package reports_test

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestMain runs the tests with storetest's golden databases (each test's
// world is a copy of one built once), dropped at the end.
func TestMain(m *testing.M) { storetest.Main(m) }

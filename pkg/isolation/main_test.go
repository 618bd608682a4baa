package isolation_test

import (
	"testing"

	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestMain runs the tests with storetest's golden databases.
func TestMain(m *testing.M) { storetest.Main(m) }

package roster

// SetImportRowLimit lowers the import's row limit for a test, so a file
// over it can be small; restore puts the limit back.
func SetImportRowLimit(n int) (restore func()) {
	old := importLimits
	importLimits.MaxRows = n
	return func() { importLimits = old }
}

// SetImportBatch makes batches of n rows for a test.
func SetImportBatch(n int) (restore func()) {
	old := importBatch
	importBatch = n
	return func() { importBatch = old }
}

// CrashAfterBatches makes the import fail (as a database fault would, so
// the task is retried) after its first n committed batches, once.
func CrashAfterBatches(n int) (restore func()) {
	left := n
	afterBatch = func() error {
		if left--; left == 0 {
			return errSimulatedCrash
		}
		return nil
	}
	return func() { afterBatch = nil }
}

var errSimulatedCrash = errorString("simulated crash between batches")

type errorString string

func (e errorString) Error() string { return string(e) }

// SetRejectedLimits lowers the limits on an import's rejected rows (their
// number, their cells' bytes) for a test.
func SetRejectedLimits(rows, bytes int) (restore func()) {
	old := rejectedLimits
	rejectedLimits.rows, rejectedLimits.bytes = rows, bytes
	return func() { rejectedLimits = old }
}

// AfterBatches runs fn once, after the nth batch an import commits (an
// outage, a rival run of the import), and lets the import go on.
func AfterBatches(n int, fn func()) (restore func()) {
	left := n
	afterBatch = func() error {
		if left--; left == 0 {
			fn()
		}
		return nil
	}
	return func() { afterBatch = nil }
}

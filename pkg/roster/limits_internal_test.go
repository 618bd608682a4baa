package roster

// SetImportRowLimit lowers the import's row limit for a test, so a file
// over it can be small; restore puts the limit back.
func SetImportRowLimit(n int) (restore func()) {
	old := importLimits
	importLimits.MaxRows = n
	return func() { importLimits = old }
}

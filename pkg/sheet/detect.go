package sheet

import (
	"bytes"
)

// kind is what the first bytes of an upload say it is.
type kind int

const (
	kindText  kind = iota // treat as CSV
	kindZip               // an XLSX, or some other zip: decided by its contents
	kindOLE2              // legacy .xls or an encrypted workbook
	kindOther             // some other binary; detected names it
)

// magic lists file signatures people upload by mistake, so the error can
// say what the file looked like (for logs and support). The order matters
// only where one prefix extends another.
var magic = []struct {
	prefix string
	name   string
}{
	{"%PDF-", "PDF"},
	{"\x89PNG\r\n\x1a\n", "PNG"},
	{"\xFF\xD8\xFF", "JPEG"},
	{"GIF87a", "GIF"},
	{"GIF89a", "GIF"},
	{"RIFF", "RIFF"},
	{"Rar!\x1a\x07", "RAR"},
	{"7z\xBC\xAF\x27\x1C", "7Z"},
	{"\x1F\x8B", "GZIP"},
	{"PK\x05\x06", "ZIP"}, // an empty zip: no entries, so not a workbook
	{"PK\x07\x08", "ZIP"}, // spanned zip
	{"{\\rtf", "RTF"},
	{"\x00\x00\x01\x00", "ICO"},
	{"II*\x00", "TIFF"},
	{"MM\x00*", "TIFF"},
	{"\x7FELF", "ELF"},
}

// htmlPrefixes catch the "Excel" files many web systems export: an HTML
// table or SpreadsheetML 2003 XML saved with an .xls name. Read as CSV they
// would fail with a baffling "missing columns".
var htmlPrefixes = []string{"<!doctype html", "<html", "<table", "<?xml", "<workbook", "<?mso-application"}

// sniff classifies an upload from its first bytes (up to 64 KiB). Only the
// first KiB is scanned for control bytes: NULs and other C0 controls do
// not occur in CSV text in UTF-8 or GB18030, while every binary format
// people confuse with a spreadsheet has them near the start.
func sniff(head []byte) (kind, string) {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return kindZip, "ZIP"
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return kindOLE2, "XLS"
	}
	for _, m := range magic {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return kindOther, m.name
		}
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\xEF\xBB\xBF")
	if len(trimmed) > 64 {
		trimmed = trimmed[:64]
	}
	lower := bytes.ToLower(trimmed)
	for _, p := range htmlPrefixes {
		if bytes.HasPrefix(lower, []byte(p)) {
			if p == "<?xml" || p == "<workbook" || p == "<?mso-application" {
				return kindOther, "XML"
			}
			return kindOther, "HTML"
		}
	}
	first := head
	if len(first) > 1024 {
		first = first[:1024]
	}
	for _, c := range first {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' {
			return kindOther, "binary"
		}
		if c == 0x7F {
			return kindOther, "binary"
		}
	}
	return kindText, ""
}

// hasUTF16BOM reports a UTF-16 byte order mark: Excel's "Unicode Text"
// export is UTF-16LE, tab-delimited, and full of NULs, so it must be
// recognised before the binary check.
func hasUTF16BOM(head []byte) bool {
	return bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF})
}

package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sampleSize is how much text decides the encoding and the delimiter, and
// the size of the read buffers: large enough that a header and many rows of
// Chinese text fall inside it, small enough to be a fixed cost per upload.
const sampleSize = 64 << 10

var (
	// errLimit is returned by countingReader past MaxBytes; it becomes
	// ErrTooLarge wherever it surfaces.
	errLimit = errors.New("sheet: input exceeds MaxBytes")
	// errUndecodable means the text is neither UTF-8 nor GB18030; it
	// becomes ErrBadEncoding.
	errUndecodable = errors.New("sheet: text is neither UTF-8 nor GB18030")
)

// countingReader enforces MaxBytes on the raw upload while it streams, so a
// CSV is never read further than the limit whatever its size claims.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64 // < 0: no limit
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.over() {
		return 0, errLimit
	}
	if c.max >= 0 {
		// Read at most one byte past the limit: enough to know it was
		// exceeded without pulling a large chunk of an oversized body.
		if room := c.max + 1 - c.n; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.over() {
		return n, errLimit
	}
	return n, err
}

func (c *countingReader) over() bool { return c.max >= 0 && c.n > c.max }

// textEncoding is the encoding a CSV was found to be in.
type textEncoding int

const (
	encUndecided textEncoding = iota // only ASCII seen so far
	encUTF8
	encGB18030
	encUTF16
)

// sniffReader passes ASCII through untouched and picks the encoding at the
// first non-ASCII byte, from the 64 KiB that start there: valid UTF-8 means
// UTF-8, anything else is decoded as GB18030 (a superset of GBK, which is
// what Excel in China writes for "CSV (逗号分隔)"). Deciding there, rather
// than on the first 64 KiB of the file, copes with a file whose header and
// first few thousand rows are ASCII and whose Chinese text comes later.
type sniffReader struct {
	br  *bufio.Reader // the raw bytes, sampleSize buffer
	dec io.Reader     // set once decided
	enc textEncoding
}

func (s *sniffReader) Read(p []byte) (int, error) {
	if s.dec != nil {
		return s.dec.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if s.br.Buffered() == 0 {
		if _, err := s.br.Peek(1); err != nil {
			return 0, err
		}
	}
	buf, _ := s.br.Peek(s.br.Buffered())
	i := 0
	for i < len(buf) && buf[i] < utf8.RuneSelf {
		i++
	}
	if i > 0 {
		n := copy(p, buf[:i])
		_, _ = s.br.Discard(n) // cannot fail: n bytes are buffered
		return n, nil
	}
	sample, err := s.br.Peek(sampleSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return 0, err
	}
	switch {
	case utf8.Valid(trimPartialRune(sample)):
		s.enc, s.dec = encUTF8, s.br
	case decodesAsGB18030(sample, err == io.EOF):
		s.enc, s.dec = encGB18030, transform.NewReader(s.br, simplifiedchinese.GB18030.NewDecoder())
	default:
		return 0, errUndecodable
	}
	return s.dec.Read(p)
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b: the
// sample is cut at an arbitrary byte, and a truncated last character should
// not make a UTF-8 file look like GBK.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if c := b[len(b)-i]; utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// decodesAsGB18030 reports whether b decodes without replacement
// characters. The decoder marks bytes that are not GB18030 with U+FFFD; not
// at EOF, an incomplete trailing sequence is left undecoded instead.
func decodesAsGB18030(b []byte, atEOF bool) bool {
	dst := make([]byte, 3*len(b)+utf8.UTFMax) // one byte can become U+FFFD or €: 3 bytes
	n, _, err := simplifiedchinese.GB18030.NewDecoder().Transform(dst, b, atEOF)
	if err != nil && err != transform.ErrShortSrc {
		return false
	}
	return !bytes.Contains(dst[:n], []byte(string(utf8.RuneError)))
}

// detectDelimiter picks ',', '\t' or ';' from the first line that contains
// any of them outside quotes: Excel writes ',' (or ';' where the decimal
// separator is ','), its "Text" export uses tabs, and it pads every row to
// the same width, so even a title row carries the delimiter. A tie goes to
// ','; no delimiter at all means a one-column file, read with ','.
func detectDelimiter(sample []byte) rune {
	var comma, tab, semi int
	inQuote := false
	for _, c := range sample {
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		switch c {
		case ',':
			comma++
		case '\t':
			tab++
		case ';':
			semi++
		case '\n':
			if comma+tab+semi > 0 {
				return pickDelimiter(comma, tab, semi)
			}
		}
	}
	return pickDelimiter(comma, tab, semi)
}

func pickDelimiter(comma, tab, semi int) rune {
	switch {
	case tab > comma && tab >= semi:
		return '\t'
	case semi > comma && semi > tab:
		return ';'
	default:
		return ','
	}
}

// csvSource reads records with encoding/csv and numbers them as Excel does.
type csvSource struct {
	count *countingReader
	sniff *sniffReader
	r     *csv.Reader
	// lastRow is the Excel row of the previous record and lastEnd the
	// physical line it ended on; the next record's row is lastRow plus the
	// lines from lastEnd to its start, so blank lines (which encoding/csv
	// skips silently) still count as rows while the extra lines of a
	// multi-line quoted cell do not.
	lastRow, lastEnd int
}

// openCSV prepares CSV reading from raw, which holds the upload with head
// (its first bytes) buffered.
func openCSV(raw *bufio.Reader, count *countingReader, head []byte) (*csvSource, error) {
	s := &sniffReader{br: raw}
	switch {
	case bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")):
		// Excel's "CSV UTF-8" writes a BOM; it settles the encoding.
		_, _ = raw.Discard(3)
		s.enc, s.dec = encUTF8, raw
	case hasUTF16BOM(head):
		// Excel's "Unicode Text": the BOM gives the byte order.
		s.enc = encUTF16
		s.dec = transform.NewReader(raw, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	}
	text := bufio.NewReaderSize(s, sampleSize)
	sample, err := text.Peek(sampleSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	r := csv.NewReader(text)
	r.Comma = detectDelimiter(sample)
	r.FieldsPerRecord = -1 // short rows are missing trailing cells
	r.ReuseRecord = true   // one allocation per record: its text
	return &csvSource{count: count, sniff: s, r: r}, nil
}

func (c *csvSource) next() ([]string, int, error) {
	rec, err := c.r.Read()
	if c.count.over() || errors.Is(err, errLimit) {
		return nil, 0, errLimit
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return nil, 0, err // io.EOF, errUndecodable, a read failure
		}
		line := c.lastRow + pe.StartLine - c.lastEnd
		c.lastRow, c.lastEnd = line, pe.Line
		return nil, line, newRowError(line, keyRowBadQuote, nil)
	}
	if len(rec) == 0 {
		return rec, c.lastRow, nil // not produced by encoding/csv; be safe
	}
	start, _ := c.r.FieldPos(0)
	lastStart, _ := c.r.FieldPos(len(rec) - 1)
	line := c.lastRow + start - c.lastEnd
	// A quoted last cell may span lines; encoding/csv keeps each line
	// break in it as "\n".
	c.lastRow, c.lastEnd = line, lastStart+strings.Count(rec[len(rec)-1], "\n")
	if !c.decodedCleanly(rec) {
		return nil, line, newRowError(line, keyRowBadEncoding, nil)
	}
	return rec, line, nil
}

// decodedCleanly checks a record against the encoding chosen from the
// sample: later bytes may still be invalid (a corrupted cell, a file pasted
// together from two sources), and a garbled name must not be imported.
func (c *csvSource) decodedCleanly(rec []string) bool {
	switch c.sniff.enc {
	case encUTF8:
		for _, v := range rec {
			if !utf8.ValidString(v) {
				return false
			}
		}
	case encGB18030, encUTF16:
		for _, v := range rec {
			if strings.ContainsRune(v, utf8.RuneError) {
				return false
			}
		}
	}
	return true
}

func (c *csvSource) close() error { return nil }

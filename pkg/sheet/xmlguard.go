package sheet

import (
	"bytes"
	"io"
)

// Limits on the XML inside an XLSX. A zip's sizes say nothing about what
// its XML costs to parse: encoding/xml returns a run of text as one token,
// so 300 MB of spaces between two tags, packed into a 300 KB upload, is a
// 300 MB string (and twice that while the buffer grows), and excelize
// joins a cell's rich-text runs and a row's cells whatever their number.
// Every XML part excelize will parse is therefore read through an
// xmlGuard first, which keeps these bounds with constant memory.
const (
	// MaxSheetXMLBytes bounds one worksheet, unpacked. 100,000 roster rows
	// of a dozen columns are about 40 MB of XML, so this is generous.
	MaxSheetXMLBytes = 256 << 20
	// MaxSharedStringsBytes bounds the shared-string table, unpacked.
	MaxSharedStringsBytes = 64 << 20
	// MaxSharedStrings bounds the number of shared strings: excelize
	// indexes a large table on disk at about 100 bytes of heap per string
	// however short (840,000 empty strings: +85 MiB), so this bounds that
	// index near 100 MiB. A 200,000-row roster saved by Excel has about
	// 700,000 distinct texts.
	MaxSharedStrings = 1 << 20
	// MaxCellBytes bounds one cell or shared string, its markup included,
	// and any single run of text. Excel itself stops at 32,767 characters
	// a cell; the roster's longest field is a few hundred.
	MaxCellBytes = 32 << 10
	// MaxRowBytes bounds the XML of one row, which excelize holds whole.
	MaxRowBytes = 2 << 20
	// maxPartBytes bounds every other XML part (workbook, relationships,
	// styles, theme, calculation chain), which excelize parses into
	// memory whole at several times its size.
	maxPartBytes = 8 << 20
	// maxPartElements bounds the elements of such a part: a style sheet of
	// 64,000 cell formats, Excel's own maximum, has about 200,000.
	maxPartElements = 256 << 10
	// maxTagBytes bounds one tag with its attributes; a worksheet's root
	// tag with a dozen namespace declarations is about 1 KB.
	maxTagBytes = 64 << 10
	// maxXMLDepth bounds nesting; spreadsheet XML nests about six deep.
	maxXMLDepth = 64
)

// xmlLimits bound one XML part. A zero field is no limit.
type xmlLimits struct {
	part     int64 // bytes of the part
	text     int64 // one run of text, comment, CDATA section or PI
	tag      int64 // one tag or declaration, attributes included
	depth    int   // element nesting
	cell     int64 // one <c> or <si> element, markup included
	row      int64 // one <row> element
	items    int64 // <si> elements (shared strings)
	elements int64 // start tags in the part
}

// The limits per kind of part.
var (
	sheetXMLLimits = xmlLimits{part: MaxSheetXMLBytes, text: MaxCellBytes, tag: maxTagBytes, depth: maxXMLDepth,
		cell: MaxCellBytes, row: MaxRowBytes}
	sharedStringsLimits = xmlLimits{part: MaxSharedStringsBytes, text: MaxCellBytes, tag: maxTagBytes, depth: maxXMLDepth,
		cell: MaxCellBytes, items: MaxSharedStrings}
	otherXMLLimits = xmlLimits{part: maxPartBytes, text: MaxCellBytes, tag: maxTagBytes, depth: maxXMLDepth,
		elements: maxPartElements}
)

// lexState is where the guard is in the XML grammar.
type lexState uint8

const (
	lexText      lexState = iota // character data
	lexOpen                      // just after '<'
	lexStartName                 // <name
	lexAttrs                     // <name ... up to '>'
	lexEndTag                    // </name ... up to '>'
	lexBang                      // just after "<!"
	lexComment                   // <!-- ... -->
	lexCDATA                     // <![CDATA[ ... ]]>
	lexDecl                      // <!DOCTYPE ...> and other declarations
	lexPI                        // <? ... ?>
)

// element kinds the guard measures.
const (
	elemOther uint8 = iota
	elemCell        // <c> in a worksheet, <si> in the shared strings
	elemRow
)

// xmlGuard passes an XML part through while checking xmlLimits, with a
// small lexer that knows tags, quoted attribute values, comments, CDATA
// sections, processing instructions and declarations: enough to measure
// every token encoding/xml would buffer, without building any. Read
// returns an *Error as soon as a limit is passed, before the bytes that
// broke it reach the reader behind.
//
// It is not a validator: malformed XML that breaks no limit passes, for
// the XML parser behind to reject.
type xmlGuard struct {
	r   io.Reader
	lim xmlLimits
	err error

	off      int64 // bytes seen
	state    lexState
	tokStart int64 // where the current token (text run or markup) began
	quote    byte  // the quote of an attribute value being read, or 0
	prev     byte  // the byte before, for "/>" and terminators
	prev2    byte
	bracket  int // '[' nesting in a declaration

	name    [8]byte // the tag's local name, first bytes
	nameLen int
	endTag  bool // the tag being read is an end tag

	depth     int
	kinds     [maxXMLDepth + 1]uint8
	cellStart int64 // where the open <c> or <si> began, or -1
	rowStart  int64 // where the open <row> began, or -1

	// rowTag keeps the first bytes of a <row> tag to read its r
	// attribute, so that an error can name the row as Excel shows it.
	rowTag        []byte
	inRowTag      bool
	row           int // the row being read, as Excel numbers it
	items         int64
	elements      int64
	sharedStrings bool // the part is the shared-string table: <si> is a cell
}

func newXMLGuard(r io.Reader, lim xmlLimits, sharedStrings bool) *xmlGuard {
	return &xmlGuard{r: r, lim: lim, cellStart: -1, rowStart: -1, sharedStrings: sharedStrings, rowTag: make([]byte, 0, 64)}
}

func (g *xmlGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if n > 0 {
		if ok := g.scan(p[:n]); !ok {
			return 0, g.err
		}
	}
	return n, err
}

// scan lexes b, which follows what was scanned before; it reports false,
// with g.err set, when a limit is passed.
func (g *xmlGuard) scan(b []byte) bool {
	i := 0
	for i < len(b) {
		if g.state == lexText {
			// The common case, and the one a bomb of spaces hits: jump
			// to the next '<' and measure the run of text before it.
			j := bytes.IndexByte(b[i:], '<')
			if j < 0 {
				g.off += int64(len(b) - i)
				return g.checkText()
			}
			g.off += int64(j)
			if !g.checkText() {
				return false
			}
			g.off++
			i += j + 1
			g.state, g.tokStart, g.prev, g.prev2 = lexOpen, g.off-1, '<', 0
			if !g.checkOpen() {
				return false
			}
			continue
		}
		c := b[i]
		i++
		g.off++
		if !g.markup(c) {
			return false
		}
		g.prev2, g.prev = g.prev, c
	}
	return g.checkOpen() && g.checkPart()
}

// markup advances the lexer over one byte of markup.
func (g *xmlGuard) markup(c byte) bool {
	switch g.state {
	case lexOpen:
		switch c {
		case '/':
			g.state, g.endTag, g.nameLen = lexEndTag, true, 0
		case '?':
			g.state = lexPI
		case '!':
			g.state = lexBang
		default:
			g.state, g.endTag, g.nameLen = lexStartName, false, 0
			g.nameByte(c)
		}
	case lexStartName:
		switch {
		case c == '>':
			return g.endOfTag()
		case isXMLSpace(c) || c == '/':
			g.state = lexAttrs
		default:
			g.nameByte(c)
		}
	case lexAttrs:
		switch {
		case g.quote != 0:
			if c == g.quote {
				g.quote = 0
			}
		case c == '"' || c == '\'':
			g.quote = c
		case c == '>':
			return g.endOfTag()
		}
	case lexEndTag:
		if c == '>' {
			return g.endOfTag()
		}
	case lexBang:
		switch c {
		case '-':
			g.state = lexComment
		case '[':
			g.state = lexCDATA
		default:
			g.state, g.bracket = lexDecl, 0
		}
	case lexComment:
		// "<!-->" and "<!--->" do not close a comment: "<!---->" is the
		// shortest that does.
		if c == '>' && g.prev == '-' && g.prev2 == '-' && g.off-g.tokStart >= int64(len("<!---->")) {
			return g.endOfOther()
		}
	case lexCDATA:
		if c == '>' && g.prev == ']' && g.prev2 == ']' {
			return g.endOfOther()
		}
	case lexPI:
		if c == '>' && g.prev == '?' {
			return g.endOfOther()
		}
	case lexDecl:
		switch {
		case g.quote != 0:
			if c == g.quote {
				g.quote = 0
			}
		case c == '"' || c == '\'':
			g.quote = c
		case c == '[':
			g.bracket++
		case c == ']':
			g.bracket--
		case c == '>' && g.bracket <= 0:
			return g.endOfOther()
		}
	}
	if g.inRowTag && len(g.rowTag) < cap(g.rowTag) {
		g.rowTag = append(g.rowTag, c)
	}
	return g.checkToken()
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nameByte collects the local name of a tag: a prefix ("x:c") is dropped.
func (g *xmlGuard) nameByte(c byte) {
	if c == ':' {
		g.nameLen = 0
		return
	}
	if g.nameLen < len(g.name) {
		g.name[g.nameLen] = c
	}
	g.nameLen++
	if !g.endTag && g.nameLen == 3 && string(g.name[:3]) == "row" {
		g.inRowTag = true // until the name proves longer ("rowBreaks")
	} else if g.nameLen > 3 {
		g.inRowTag = false
	}
}

func (g *xmlGuard) localName() string {
	if g.nameLen > len(g.name) {
		return "" // longer than any name the guard measures
	}
	return string(g.name[:g.nameLen])
}

// endOfTag ends a start, empty-element or end tag.
func (g *xmlGuard) endOfTag() bool {
	name := g.localName()
	g.state, g.quote = lexText, 0
	if g.endTag {
		if g.depth > 0 {
			switch g.kinds[g.depth] {
			case elemCell:
				if !g.checkOpen() {
					return false
				}
				g.cellStart = -1
			case elemRow:
				if !g.checkOpen() {
					return false
				}
				g.rowStart = -1
			}
			g.depth--
		}
		g.tokStart = g.off
		return true
	}
	if lim := g.lim.tag; lim > 0 && g.off-g.tokStart > lim {
		return g.fail(keyCorrupt, map[string]any{"detected": "XLSX", "reason": "tag too long"})
	}
	g.elements++
	if lim := g.lim.elements; lim > 0 && g.elements > lim {
		return g.fail(keyCorrupt, map[string]any{"detected": "XLSX", "reason": "too many elements"})
	}
	kind := elemOther
	switch {
	case name == "si" && g.sharedStrings:
		kind = elemCell
		g.items++
		if lim := g.lim.items; lim > 0 && g.items > lim {
			return g.fail(keyTooManyStrings, map[string]any{"max": lim})
		}
	case name == "c" && !g.sharedStrings:
		kind = elemCell
	case name == "row" && !g.sharedStrings:
		kind = elemRow
		g.row = rowNumber(g.rowTag, g.row)
	}
	g.inRowTag, g.rowTag = false, g.rowTag[:0]
	selfClosing := g.prev == '/'
	if !selfClosing {
		if g.depth++; g.depth > maxXMLDepth || (g.lim.depth > 0 && g.depth > g.lim.depth) {
			return g.fail(keyCorrupt, map[string]any{"detected": "XLSX", "reason": "nested too deep"})
		}
		g.kinds[g.depth] = kind
		switch kind {
		case elemCell:
			g.cellStart = g.tokStart
		case elemRow:
			g.rowStart = g.tokStart
		}
	}
	g.tokStart = g.off
	return true
}

// endOfOther ends a comment, CDATA section, PI or declaration: text-like
// tokens, measured against the text limit.
func (g *xmlGuard) endOfOther() bool {
	if !g.checkToken() {
		return false
	}
	g.state, g.quote, g.tokStart = lexText, 0, g.off
	return true
}

// checkToken measures the markup token being read.
func (g *xmlGuard) checkToken() bool {
	n := g.off - g.tokStart
	switch g.state {
	case lexComment, lexCDATA, lexPI:
		if lim := g.lim.text; lim > 0 && n > lim {
			return g.cellTooLarge()
		}
	default:
		if lim := g.lim.tag; lim > 0 && n > lim {
			return g.fail(keyCorrupt, map[string]any{"detected": "XLSX", "reason": "tag too long"})
		}
	}
	return g.checkOpen()
}

// checkText measures the run of text that ends at g.off.
func (g *xmlGuard) checkText() bool {
	if lim := g.lim.text; lim > 0 && g.off-g.tokStart > lim {
		return g.cellTooLarge()
	}
	return g.checkOpen() && g.checkPart()
}

// checkOpen measures the open cell and row.
func (g *xmlGuard) checkOpen() bool {
	if lim := g.lim.cell; lim > 0 && g.cellStart >= 0 && g.off-g.cellStart > lim {
		return g.cellTooLarge()
	}
	if lim := g.lim.row; lim > 0 && g.rowStart >= 0 && g.off-g.rowStart > lim {
		return g.fail(keyRowTooLarge, map[string]any{"max": sizeText(lim), "line": g.row})
	}
	return true
}

func (g *xmlGuard) checkPart() bool {
	if lim := g.lim.part; lim > 0 && g.off > lim {
		return g.fail(keyUnpackedTooLarge, map[string]any{"max": sizeText(lim)})
	}
	return true
}

func (g *xmlGuard) cellTooLarge() bool {
	args := map[string]any{"max": sizeText(g.lim.cell)}
	if g.rowStart >= 0 {
		args["line"] = g.row
	}
	return g.fail(keyCellTooLarge, args)
}

func (g *xmlGuard) fail(key string, args map[string]any) bool {
	g.err = newError(key, args)
	return false
}

// rowNumber reads r="N" from the start of a <row> tag; without it, the
// row follows the previous one, as in excelize.
func rowNumber(tag []byte, prev int) int {
	for i := 0; i+2 < len(tag); i++ {
		if tag[i] != 'r' || !isXMLSpace(tagByte(tag, i-1)) {
			continue
		}
		j := i + 1
		for j < len(tag) && isXMLSpace(tag[j]) {
			j++
		}
		if j >= len(tag) || tag[j] != '=' {
			continue
		}
		for j++; j < len(tag) && isXMLSpace(tag[j]); j++ {
		}
		if j >= len(tag) || (tag[j] != '"' && tag[j] != '\'') {
			continue
		}
		n := 0
		for j++; j < len(tag) && tag[j] >= '0' && tag[j] <= '9' && n < 1<<24; j++ {
			n = n*10 + int(tag[j]-'0')
		}
		if n > 0 {
			return n
		}
	}
	return prev + 1
}

func tagByte(tag []byte, i int) byte {
	if i < 0 {
		return ' ' // the tag's name was not kept: treat as a separator
	}
	return tag[i]
}

// Package smslen counts the parts (segments) an SMS is billed as, the way the
// providers count them, so that outreach can show an office what a message
// will cost before it goes to hundreds of residents.
//
// Two rules exist because the providers disagree:
//
//   - GSM: the carriers' own rule (3GPP TS 23.038), which Twilio and most
//     gateways follow. A body made only of GSM-7 characters fits 160 septets
//     in one part and 153 per part when split (the user data header takes the
//     rest); one character outside GSM-7 turns the whole message into UCS-2:
//     70 UTF-16 units in one part, 67 per part.
//   - Aliyun: Aliyun's domestic rule. Every character counts as one, ASCII or
//     not: 70 in one part, 67 per part. Aliyun prepends the sign name in 【】
//     and counts it, brackets included.
package smslen

import "unicode/utf16"

// Rule selects a provider's way of counting.
type Rule int

// The rules start at 1 so that a zero Rule is caught rather than silently
// counted by one of them.
const (
	GSM Rule = iota + 1
	Aliyun
)

// Encoding is how the carrier will encode the message.
type Encoding int

// The encodings a message can travel in.
const (
	GSM7 Encoding = iota + 1
	UCS2
)

// String is for logs and test failures.
func (e Encoding) String() string {
	switch e {
	case GSM7:
		return "GSM-7"
	case UCS2:
		return "UCS-2"
	}
	return "unknown"
}

// The part sizes, in septets for GSM-7 and UTF-16 units for UCS-2.
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// Length is a measured message.
type Length struct {
	// Units is the size in the encoding's units: septets for GSM-7 (an
	// extension character such as € takes two), UTF-16 units for UCS-2 (an
	// emoji outside the BMP takes two).
	Units    int
	Encoding Encoding
	// Parts is how many messages the carrier sends and the provider bills;
	// 0 only for an empty message with no sign.
	Parts int
}

// Parts is Measure(...).Parts.
func Parts(body, signName string, rule Rule) int {
	return Measure(body, signName, rule).Parts
}

// Measure counts body as the provider will send it. signName is the sign the
// provider prepends as 【signName】 (Aliyun does for every domestic message);
// pass "" when it adds none, as Twilio does.
//
// Invalid UTF-8 bytes count as one unit each, like the replacement character
// a gateway would put in their place.
func Measure(body, signName string, rule Rule) Length {
	text := body
	if signName != "" {
		text = "【" + signName + "】" + body
	}
	if text == "" {
		return Length{Encoding: GSM7}
	}
	if rule == Aliyun {
		// Aliyun documents "one character, one unit" for Chinese, letters,
		// digits and punctuation alike. An emoji crosses the carrier's UCS-2
		// link as a surrogate pair, so it is counted as two: never fewer
		// parts than the carrier will bill.
		n := ucs2Units(text)
		return Length{Units: n, Encoding: UCS2, Parts: ceilParts(n, ucs2Single, ucs2Part)}
	}
	if septets, ok := gsmSeptets(text); ok {
		return Length{Units: septets, Encoding: GSM7, Parts: gsmParts(text, septets)}
	}
	n := ucs2Units(text)
	return Length{Units: n, Encoding: UCS2, Parts: ucs2Parts(text, n)}
}

func ceilParts(n, single, part int) int {
	if n <= single {
		return 1
	}
	return (n + part - 1) / part
}

// gsmParts fills parts of 153 septets without splitting an escape sequence
// (an extension character's two septets), as the carriers do: a part that
// would end between them ends one septet short.
func gsmParts(text string, total int) int {
	if total <= gsmSingle {
		return 1
	}
	parts, used := 1, 0
	for _, r := range text {
		w := 1
		if isGSMExtension(r) {
			w = 2
		}
		if used+w > gsmPart {
			parts++
			used = 0
		}
		used += w
	}
	return parts
}

// ucs2Parts fills parts of 67 units without splitting a surrogate pair, so
// that every part decodes on its own.
func ucs2Parts(text string, total int) int {
	if total <= ucs2Single {
		return 1
	}
	parts, used := 1, 0
	for _, r := range text {
		w := runeUnits(r)
		if used+w > ucs2Part {
			parts++
			used = 0
		}
		used += w
	}
	return parts
}

func ucs2Units(s string) int {
	n := 0
	for _, r := range s {
		n += runeUnits(r)
	}
	return n
}

// runeUnits is a rune's size in UTF-16. range yields U+FFFD for an invalid
// byte, which is one unit, as the replacement a gateway sends.
func runeUnits(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1
}

// gsmSeptets reports the size of s in GSM-7 septets, or false if a
// character is outside the GSM-7 default alphabet and its extension table.
func gsmSeptets(s string) (int, bool) {
	n := 0
	for _, r := range s {
		switch {
		case isGSMBasic(r):
			n++
		case isGSMExtension(r):
			n += 2
		default:
			return 0, false
		}
	}
	return n, true
}

// gsmBasic is the GSM 03.38 default alphabet outside ASCII letters and
// digits, which isGSMBasic checks by range.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà"

// gsmExtension is the extension table: each character costs an escape
// septet and its own.
const gsmExtension = "\f^{}\\[~]|€"

func isGSMBasic(r rune) bool {
	if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
		return true
	}
	return containsRune(gsmBasic, r)
}

func isGSMExtension(r rune) bool { return containsRune(gsmExtension, r) }

func containsRune(set string, r rune) bool {
	for _, c := range set {
		if c == r {
			return true
		}
	}
	return false
}

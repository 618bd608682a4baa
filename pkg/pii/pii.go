// Package pii validates, normalises and masks the personal identifiers kept
// about residents: phone numbers and resident identity card numbers
// (居民身份证号码).
//
// Everything here runs on every row of a roster import and on every list
// response, so the parsers avoid regular expressions and heap allocations:
// an input that is already normalised is returned as is, anything else costs
// one allocation for the normalised string.
//
// Errors are sentinel *Error values that carry an i18n message key rather
// than text, so a caller can attach them to a form field and render them in
// the user's language (see messages.go).
package pii

// Error is a validation failure. Key is an i18n message key registered in
// messages.go; the package never chooses a language.
type Error struct {
	Key string
}

// Error returns the key: it is meant for logs and tests, users see the
// translated message.
func (e *Error) Error() string { return "pii: " + e.Key }

// The failures. The parsers return these exact pointers, so errors.Is works
// without an Is method and errors.As yields the key.
var (
	// ErrPhoneEmpty: nothing but white space.
	ErrPhoneEmpty = &Error{Key: "phone_empty"}
	// ErrPhoneFormat: neither a mobile nor a landline number: stray
	// characters, a foreign country code, too many digits.
	ErrPhoneFormat = &Error{Key: "phone_format"}
	// ErrMobileFormat: starts like a mobile number (1) but is not
	// 1[3-9] followed by 9 digits.
	ErrMobileFormat = &Error{Key: "phone_mobile_format"}
	// ErrLandlineFormat: starts like a landline (an area code, or 7–8
	// digits without one) but is not a valid one.
	ErrLandlineFormat = &Error{Key: "phone_landline_format"}

	// ErrIDLength: not 18 characters; this includes the 15-digit numbers
	// issued before 1999, which we do not accept because they lack the
	// century and the check digit.
	ErrIDLength = &Error{Key: "id_length"}
	// ErrIDChars: 18 characters, but not 17 digits and a digit or X.
	ErrIDChars = &Error{Key: "id_chars"}
	// ErrIDRegion: the first two digits are not a province code.
	ErrIDRegion = &Error{Key: "id_region"}
	// ErrIDBirthDate: the birth date is not a calendar date, is in the
	// future or before 1880.
	ErrIDBirthDate = &Error{Key: "id_birth_date"}
	// ErrIDChecksum: the check digit does not match, usually a typo.
	ErrIDChecksum = &Error{Key: "id_checksum"}
)

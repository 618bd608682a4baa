package pii

import "strings"

// DialString is a stored phone (see Phone.Number) as a phone's dialler
// takes it after "tel:": the digits, with a landline's extension after a
// pause (a comma), which phones dial once the call connects.
func DialString(number string) string {
	parts := strings.Split(number, "-")
	if len(parts) == 3 {
		return parts[0] + parts[1] + "," + parts[2]
	}
	return strings.Join(parts, "")
}

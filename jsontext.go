package tollgate

import "strconv"

// jsonEscapes calls fn with the code unit of every \uXXXX escape in a JSON
// text (an escaped backslash is skipped as a unit, so "\\u0000" is text).
func jsonEscapes(b []byte, fn func(i int, unit uint16) bool) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] == 'u' && i+5 < len(b) {
			if u, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16); err == nil && !fn(i, uint16(u)) {
				return
			}
		}
		i++ // the escaped character
	}
}

// ContainsNULEscape reports a \u0000 escape in a JSON text: PostgreSQL's
// text and jsonb cannot hold NUL.
func ContainsNULEscape(b []byte) bool {
	found := false
	jsonEscapes(b, func(_ int, u uint16) bool {
		found = u == 0
		return !found
	})
	return found
}

// HasLoneSurrogate reports a UTF-16 surrogate escape that is not part of a
// high-low pair; jsonb refuses those, and accepts pairs.
func HasLoneSurrogate(b []byte) bool {
	lone, wantLow, at := false, false, -1
	jsonEscapes(b, func(i int, u uint16) bool {
		switch {
		case wantLow && i == at+6 && u >= 0xDC00 && u <= 0xDFFF:
			wantLow = false
		case wantLow:
			lone = true
		case u >= 0xD800 && u <= 0xDBFF:
			wantLow, at = true, i
		case u >= 0xDC00 && u <= 0xDFFF:
			lone = true
		}
		return !lone
	})
	return lone || wantLow
}

package tollgate

import (
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CursorList names the list a page cursor belongs to. The names are inside
// every cursor handed out: renaming one refuses its outstanding cursors.
type CursorList string

const (
	CursorParties        CursorList = "parties"
	CursorContracts      CursorList = "contracts"
	CursorCycles         CursorList = "cycles"
	CursorAPIKeys        CursorList = "api_keys"
	CursorAudit          CursorList = "audit"
	CursorDeadLetters    CursorList = "dead_letters"
	CursorTransactions   CursorList = "transactions"
	CursorFXRates        CursorList = "fx_rates"
	CursorLedgerAccounts CursorList = "ledger_accounts"
	CursorLedgerEntries  CursorList = "ledger_entries"
)

// MaxCursorLen bounds the cursor text accepted, checked before decoding.
// The longest cursor handed out (a transaction's provider and external IDs)
// is well under half of it.
const MaxCursorLen = 512

// cursorVersion leads every cursor so the layout can change later without
// misreading older cursors.
const cursorVersion = 1

// EncodeCursor returns the opaque cursor of the page after key in list:
// base64url (no padding) of the version byte followed by the list name and
// each key part, each a uvarint length then its bytes. Length prefixes carry
// any text unchanged, and keep the cursor short.
func EncodeCursor(list CursorList, key ...string) string {
	b := []byte{cursorVersion}
	b = appendField(b, string(list))
	for _, k := range key {
		b = appendField(b, k)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// DecodeCursor returns the parts key parts of a cursor EncodeCursor made for
// list; an empty cursor (the first page) returns nil. A cursor that does not
// decode, belongs to another list or has another number of parts is an
// invalid-input error, never an internal one: it is the caller's text.
func DecodeCursor(list CursorList, cursor string, parts int) ([]string, error) {
	if cursor == "" {
		return nil, nil
	}
	refuse := func(why string) error {
		shown := cursor
		if len(shown) > 40 {
			shown = shown[:40] + "..."
		}
		return Errorf(CodeInvalid, "cursor %q is not one this list returned (%s); start again without a cursor", shown, why)
	}
	if len(cursor) > MaxCursorLen {
		return nil, refuse("longer than " + strconv.Itoa(MaxCursorLen) + " characters")
	}
	// The decoder skips \r and \n; a cursor is exactly what EncodeCursor
	// wrote, so any byte outside the base64url alphabet is refused first.
	if strings.IndexFunc(cursor, notBase64URL) >= 0 {
		return nil, refuse("not base64url")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil || len(b) == 0 {
		return nil, refuse("not base64url")
	}
	if b[0] != cursorVersion {
		return nil, refuse("unknown version")
	}
	var fields []string
	for rest := b[1:]; len(rest) > 0; {
		n64, w := binary.Uvarint(rest)
		if w <= 0 || n64 > MaxCursorLen {
			return nil, refuse("malformed")
		}
		n := int(n64) //nolint:gosec // G115: n64 <= MaxCursorLen, checked above
		if n > len(rest)-w {
			return nil, refuse("malformed")
		}
		f := string(rest[w : w+n])
		if !utf8.ValidString(f) || strings.ContainsRune(f, 0) {
			return nil, refuse("malformed")
		}
		fields = append(fields, f)
		rest = rest[w+n:]
	}
	switch {
	case len(fields) == 0 || fields[0] != string(list):
		return nil, refuse("it belongs to another list")
	case len(fields)-1 != parts:
		return nil, refuse("wrong number of key parts")
	}
	return fields[1:], nil
}

// EncodeCursorID is EncodeCursor for a list keyed by a positive integer ID.
func EncodeCursorID(list CursorList, id int64) string {
	return EncodeCursor(list, strconv.FormatInt(id, 10))
}

// DecodeCursorID is DecodeCursor for a list keyed by a positive integer ID;
// an empty cursor returns 0.
func DecodeCursorID(list CursorList, cursor string) (int64, error) {
	key, err := DecodeCursor(list, cursor, 1)
	if err != nil || key == nil {
		return 0, err
	}
	id, err := strconv.ParseInt(key[0], 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != key[0] {
		return 0, Errorf(CodeInvalid, "cursor %q is not one this list returned (not an ID); start again without a cursor", cursor)
	}
	return id, nil
}

// notBase64URL reports a rune outside the unpadded base64url alphabet.
func notBase64URL(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
		return false
	}
	return true
}

package tollgate

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, key := range [][]string{
		{},
		{"pv-1"},
		{""},
		{"pv-1", "ext-9"},
		{"a:b", "c|d", "e\x01f", "日本🚀", `"quoted" \ slash`},
		{strings.Repeat("p", 64), strings.Repeat("é", 64)}, // the longest transaction key
		{"2026-01-01T00:00:00.123456Z", "USD", "EUR", strings.Repeat("s", 100)},
	} {
		c := EncodeCursor(CursorTransactions, key...)
		require.NotContains(t, c, "=", "no padding")
		require.LessOrEqual(t, len(c), MaxCursorLen, "every cursor handed out is accepted back")
		require.Equal(t, c, base64.RawURLEncoding.EncodeToString(mustDecodeB64(t, c)), "URL-safe alphabet")
		got, err := DecodeCursor(CursorTransactions, c, len(key))
		require.NoError(t, err, "%q", key)
		require.Equal(t, key, got)
		require.NotNil(t, got, "a decoded cursor is never read as the first page")
	}

	id, err := DecodeCursorID(CursorAudit, EncodeCursorID(CursorAudit, 9223372036854775807))
	require.NoError(t, err)
	require.Equal(t, int64(9223372036854775807), id)
}

func TestCursorEmptyIsFirstPage(t *testing.T) {
	t.Parallel()
	key, err := DecodeCursor(CursorParties, "", 1)
	require.NoError(t, err)
	require.Nil(t, key)
	id, err := DecodeCursorID(CursorAudit, "")
	require.NoError(t, err)
	require.Zero(t, id)
}

func TestCursorRefused(t *testing.T) {
	t.Parallel()
	good := EncodeCursor(CursorTransactions, "pv-1", "ext-1")
	payload := mustDecodeB64(t, good)
	raw := func(b ...byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	withVersion := func(v byte) string {
		b := append([]byte{v}, payload[1:]...)
		return raw(b...)
	}
	cases := map[string]struct {
		list   CursorList
		cursor string
		parts  int
	}{
		"another list":         {CursorParties, good, 2},
		"another list, 1 part": {CursorParties, EncodeCursor(CursorContracts, "c-1"), 1},
		"ledger lists differ":  {CursorLedgerAccounts, EncodeCursorID(CursorLedgerEntries, 5), 1},
		"too few parts":        {CursorTransactions, EncodeCursor(CursorTransactions, "pv-1"), 2},
		"too many parts":       {CursorTransactions, EncodeCursor(CursorTransactions, "pv-1", "e", "x"), 2},
		"no list name":         {CursorTransactions, raw(cursorVersion), 2},
		"not base64":           {CursorTransactions, "!!", 2},
		"padded":               {CursorTransactions, good + "==", 2},
		"standard alphabet":    {CursorTransactions, strings.NewReplacer("-", "+", "_", "/").Replace(EncodeCursor(CursorTransactions, "\xfb\xff", "?>")), 2},
		"garbage":              {CursorTransactions, "garbage", 2},
		"unknown version":      {CursorTransactions, withVersion(2), 2},
		"version zero":         {CursorTransactions, withVersion(0), 2},
		"truncated":            {CursorTransactions, raw(payload[:len(payload)-2]...), 2},
		"trailing byte":        {CursorTransactions, raw(append(payload, 9)...), 2},
		"huge length":          {CursorTransactions, raw(cursorVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 2},
		"overlong varint":      {CursorTransactions, raw(cursorVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 2},
		"NUL in a part":        {CursorTransactions, EncodeCursor(CursorTransactions, "pv-1", "a\x00b"), 2},
		"invalid UTF-8 part":   {CursorTransactions, EncodeCursor(CursorTransactions, "pv-1", "\xff"), 2},
		"too long":             {CursorTransactions, EncodeCursor(CursorTransactions, "pv-1", strings.Repeat("x", 400)), 2},
		"too long garbage":     {CursorTransactions, strings.Repeat("A", MaxCursorLen+1), 2},
		// The formats lists used before this one.
		"old raw id":             {CursorParties, "pv-1", 1},
		"old raw integer":        {CursorAudit, "42", 1},
		"old ledger cursor":      {CursorLedgerAccounts, raw([]byte("a:5")...), 1},
		"old transaction cursor": {CursorTransactions, raw([]byte("pv-1\x00ext-1")...), 2},
	}
	for name, tc := range cases {
		key, err := DecodeCursor(tc.list, tc.cursor, tc.parts)
		require.Error(t, err, name)
		require.Nil(t, key, name)
		require.Equal(t, CodeInvalid, ErrorCode(err), name)
		require.Contains(t, err.Error(), "is not one this list returned", name)
		require.LessOrEqual(t, len(err.Error()), 200, "%s: the message does not echo a long cursor", name)
	}

	for _, bad := range []string{"0", "-1", "007", "+5", "abc", "9223372036854775808", ""} {
		_, err := DecodeCursorID(CursorAudit, EncodeCursor(CursorAudit, bad))
		require.Equal(t, CodeInvalid, ErrorCode(err), "%q", bad)
	}
	_, err := DecodeCursorID(CursorAudit, EncodeCursorID(CursorDeadLetters, 5))
	require.Equal(t, CodeInvalid, ErrorCode(err))
}

// Whatever text arrives, decoding answers without panicking, and a cursor
// it accepts is exactly the one EncodeCursor makes for that key: one key,
// one cursor.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(CursorTransactions, "pv-1", "ext-1"), 2)
	f.Add(EncodeCursorID(CursorTransactions, 7), 1)
	f.Add("garbage", 2)
	f.Add("AQ", 0)
	f.Fuzz(func(t *testing.T, c string, parts int) {
		key, err := DecodeCursor(CursorTransactions, c, parts)
		if err != nil {
			require.Equal(t, CodeInvalid, ErrorCode(err))
			return
		}
		if c == "" {
			require.Nil(t, key)
			return
		}
		require.Len(t, key, parts)
		require.Equal(t, c, EncodeCursor(CursorTransactions, key...))
	})
}

func mustDecodeB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

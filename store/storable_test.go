package store

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/internal/testdb"
)

// Every rejected row must be storable as a dead letter, whatever it holds.
func TestStorablePayload(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	for _, raw := range []string{`{"a":"ok"}`, `{"a":"\u0000"}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\xfe\"}", "\x00{", `not json`, `{"a":"\\u0000"}`, `{"note":"\ud83d\ude00"}`} {
		out := storablePayload(json.RawMessage(raw))
		require.True(t, json.Valid(out), "%q -> %s", raw, out)
		var back string
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT $1::jsonb::text`, string(out)).Scan(&back), "%q -> %s", raw, out)
	}
	require.Equal(t, `{"a":"ok"}`, string(storablePayload(json.RawMessage(`{"a":"ok"}`))), "good JSON is kept as is")
	pair := `{"note":"\ud83d\ude00"}`
	require.Equal(t, pair, string(storablePayload(json.RawMessage(pair))), "a surrogate pair is valid JSON text for jsonb")
	require.JSONEq(t, `{"a":"\ufffd"}`, string(storablePayload(json.RawMessage(`{"a":"\ud800"}`))), "a lone surrogate is normalised, the row stays an object")
	escaped := `{"path":"C:\\u0000"}`
	require.Equal(t, escaped, string(storablePayload(json.RawMessage(escaped))), "an escaped backslash is text, not a NUL")
	require.Equal(t, "a\uFFFDb", storableText("a\xffb\x00"))
}

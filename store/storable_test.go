package store

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/internal/testdb"
)

// Every rejected row must be storable as a dead letter, whatever it holds.
func TestStorablePayload(t *testing.T) {
	pool := testdb.Pool(t)
	for _, raw := range []string{`{"a":"ok"}`, `{"a":"\u0000"}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\xfe\"}", "\x00{", `not json`, `{"a":"\\u0000"}`} {
		out := storablePayload(json.RawMessage(raw))
		require.True(t, json.Valid(out), "%q -> %s", raw, out)
		var back string
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT $1::jsonb::text`, string(out)).Scan(&back), "%q -> %s", raw, out)
	}
	require.Equal(t, `{"a":"ok"}`, string(storablePayload(json.RawMessage(`{"a":"ok"}`))), "good JSON is kept as is")
	require.Equal(t, "a\uFFFDb", storableText("a\xffb\x00"))
}

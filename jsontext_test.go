package tollgate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJSONEscapes(t *testing.T) {
	t.Parallel()
	require.False(t, ContainsNULEscape([]byte(`{"path":"C:\\u0000"}`)), "an escaped backslash is text, not a NUL")
	require.True(t, ContainsNULEscape([]byte(`{"a":"x\u0000"}`)))
	require.True(t, HasLoneSurrogate([]byte(`"\ude00"`)))
	require.True(t, HasLoneSurrogate([]byte(`"\ud83dx"`)))
	require.True(t, HasLoneSurrogate([]byte(`"\ud83d"`)), "a high surrogate at the end")
	require.False(t, HasLoneSurrogate([]byte(`"\ud83d\ude00 \u00e9"`)))
}

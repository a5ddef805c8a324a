package tollgate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
)

func TestSignatureRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Unix(1767225600, 0)
	body := []byte(`{"transactions":[]}`)
	sig := tollgate.Sign("s1", now, body)
	require.Regexp(t, `^t=1767225600,v1=[0-9a-f]{64}$`, sig)

	v1, err := tollgate.VerifySignature(sig, body, []string{"old", "s1"}, now.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, sig[len("t=1767225600,v1="):], v1)

	for name, c := range map[string]struct {
		header  string
		body    string
		secrets []string
		at      time.Time
	}{
		"missing":      {"", string(body), []string{"s1"}, now},
		"garbled":      {"v1=abc", string(body), []string{"s1"}, now},
		"stale":        {sig, string(body), []string{"s1"}, now.Add(6 * time.Minute)},
		"future":       {sig, string(body), []string{"s1"}, now.Add(-6 * time.Minute)},
		"other secret": {sig, string(body), []string{"s2"}, now},
		"tampered":     {sig, `{"transactions":[{}]}`, []string{"s1"}, now},
		"not hex":      {"t=1767225600,v1=zz", string(body), []string{"s1"}, now},
	} {
		_, err := tollgate.VerifySignature(c.header, []byte(c.body), c.secrets, c.at)
		require.Error(t, err, name)
		require.Equal(t, tollgate.CodeUnauthorized, tollgate.ErrorCode(err), name)
	}
}

func TestSignatureDigestIsCanonical(t *testing.T) {
	t.Parallel()
	now := time.Unix(1767225600, 0)
	body := []byte(`{}`)
	sig := tollgate.Sign("s1", now, body)
	lower, err := tollgate.VerifySignature(sig, body, []string{"s1"}, now)
	require.NoError(t, err)
	_, err = tollgate.VerifySignature(strings.ToUpper(sig[:len("t=1767225600,")])+"v1="+strings.ToUpper(sig[len("t=1767225600,v1="):]), body, []string{"s1"}, now)
	require.Error(t, err, "T= is not the t field")
	upper, err := tollgate.VerifySignature("t=1767225600,v1="+strings.ToUpper(sig[len("t=1767225600,v1="):]), body, []string{"s1"}, now)
	require.NoError(t, err)
	require.Equal(t, lower, upper, "the replay key does not depend on the digest's case")
}

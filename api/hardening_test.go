package api_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/store"
)

// lockedBuffer collects log output written from handler goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type server struct {
	url  string
	logs *lockedBuffer
}

func newServer(t *testing.T, d api.Deps) *server {
	t.Helper()
	s := &server{logs: &lockedBuffer{}}
	if d.Pool == nil {
		d.Pool = testdb.Pool(t)
	}
	if d.Store == nil {
		d.Store = store.New(d.Pool, d.Clock)
	}
	d.Logger = slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hs := httptest.NewServer(api.New(d).Handler())
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

func send(t *testing.T, method, url, token string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// Requests carrying keys, signing secrets and signatures, failing and
// succeeding, must leave none of them in the logs (debug level included).
func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	now := time.Now()
	s := newServer(t, api.Deps{Pool: pool, Clock: func() time.Time { return now }})
	admin, _, _ := api.GenerateKey()
	require.NoError(t, api.EnsureBootstrapKey(t.Context(), pool, admin))

	var secrets []string
	_, b := send(t, "POST", s.url+"/v1/parties", admin, []byte(`{"id":"pv-1","kind":"provider","name":"Pv","currency":"EUR"}`), nil)
	var party map[string]any
	require.NoError(t, json.Unmarshal(b, &party))
	secrets = append(secrets, party["signing_secret"].(string))
	_, b = send(t, "POST", s.url+"/v1/parties/pv-1/rotate-secret", admin, nil, nil)
	require.NoError(t, json.Unmarshal(b, &party))
	secrets = append(secrets, party["signing_secret"].(string))
	_, b = send(t, "POST", s.url+"/v1/api-keys", admin, []byte(`{"name":"feed","role":"ingest","provider_id":"pv-1"}`), nil)
	var key map[string]any
	require.NoError(t, json.Unmarshal(b, &key))
	ingest := key["key"].(string)
	secrets = append(secrets, admin, ingest, admin[strings.LastIndex(admin, "_")+1:], ingest[strings.LastIndex(ingest, "_")+1:])

	body := []byte(`{"transactions":[{"provider_id":"pv-1","operator_id":"op-1","external_id":"e1","kind":"charge","amount":"1.00","currency":"EUR","occurred_at":"2026-01-01T00:00:00Z"}]}`)
	sig := tollgate.Sign(secrets[1], now, body)
	secrets = append(secrets, sig[strings.Index(sig, "v1=")+3:])
	send(t, "POST", s.url+"/v1/providers/pv-1/events", "", body, map[string]string{"Tollgate-Signature": sig})
	send(t, "POST", s.url+"/v1/providers/pv-1/events", "", body, map[string]string{"Tollgate-Signature": sig}) // replay: 409
	send(t, "POST", s.url+"/v1/transactions", ingest, body, nil)
	wrong := admin[:len(admin)-4] + "abcd"
	secrets = append(secrets, wrong)
	send(t, "GET", s.url+"/v1/parties", wrong, nil, nil)
	send(t, "GET", s.url+"/v1/parties", "not-a-key-"+ingest, nil, nil)
	send(t, "POST", s.url+"/v1/diagnostics/roundtrip", admin, []byte(`{"message":"`+ingest+`"}`), nil) // no Temporal: panics, 500

	logs := s.logs.String()
	require.NotEmpty(t, logs, "the test must capture something to be meaningful")
	require.Contains(t, logs, "/v1/providers/:id/events")
	for _, secret := range secrets {
		require.NotContains(t, logs, secret)
	}
}

func TestRateLimitPerKey(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newServer(t, api.Deps{Pool: pool, Clock: clock, RateLimit: api.RateLimit{PerSecond: 1, Burst: 3}})
	a := insertKey(t, pool, "a", api.RoleViewer, "")
	b := insertKey(t, pool, "b", api.RoleViewer, "")
	for range 3 {
		resp, body := send(t, "GET", s.url+"/v1/parties", a, nil, nil)
		require.Equal(t, 200, resp.StatusCode, "%s", body)
	}
	resp, body := send(t, "GET", s.url+"/v1/parties", a, nil, nil)
	requireProblem(t, resp.StatusCode, resp.Header, body, http.StatusTooManyRequests, "over budget")
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	require.Contains(t, string(body), "rate_limited")

	// Another key has its own budget; the limited one refills with time.
	resp, _ = send(t, "GET", s.url+"/v1/parties", b, nil, nil)
	require.Equal(t, 200, resp.StatusCode)
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	resp, _ = send(t, "GET", s.url+"/v1/parties", a, nil, nil)
	require.Equal(t, 200, resp.StatusCode)
}

func TestCORSAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	off := newServer(t, api.Deps{Pool: pool})
	on := newServer(t, api.Deps{Pool: pool, CORSOrigins: []string{"https://console.example"}})
	preflight := map[string]string{"Origin": "https://console.example", "Access-Control-Request-Method": "POST"}

	resp, _ := send(t, "OPTIONS", off.url+"/v1/parties", "", nil, preflight)
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "CORS is off by default")
	resp, _ = send(t, "GET", off.url+"/healthz", "", nil, map[string]string{"Origin": "https://console.example"})
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	resp, _ = send(t, "OPTIONS", on.url+"/v1/parties", "", nil, preflight)
	require.Equal(t, "https://console.example", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	resp, _ = send(t, "OPTIONS", on.url+"/v1/parties", "", nil, map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	for _, path := range []string{"/healthz", "/openapi.json", "/v1/parties", "/no-such-page"} {
		resp, _ = send(t, "GET", off.url+path, "", nil, nil)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), path)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
	}
	hs := api.New(api.Deps{}).HTTPServer(":0")
	require.NotZero(t, hs.ReadHeaderTimeout)
	require.NotZero(t, hs.ReadTimeout)
	require.NotZero(t, hs.WriteTimeout)
	require.NotZero(t, hs.IdleTimeout)
}

// jwksServer is an identity provider's JWKS endpoint: its keys can rotate
// and it can fail, and it counts the fetches that reach it.
type jwksServer struct {
	url string

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	down    bool
	fetches int
}

func newJWKSServer(t *testing.T, kid string, key *rsa.PublicKey) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: map[string]*rsa.PublicKey{kid: key}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetches++
		if s.down {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		enc := base64.RawURLEncoding.EncodeToString
		keys := []map[string]string{}
		for kid, key := range s.keys {
			keys = append(keys, map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
				"n": enc(key.N.Bytes()), "e": enc(big.NewInt(int64(key.E)).Bytes())})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

// rotate replaces the published keys with one new key.
func (s *jwksServer) rotate(kid string, key *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = map[string]*rsa.PublicKey{kid: key}
}

func (s *jwksServer) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *jwksServer) fetchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

func TestOIDCBearerTokens(t *testing.T) {
	t.Parallel()
	idpKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	var clockNanos atomic.Int64
	clockNanos.Store(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, clockNanos.Load()).UTC() }
	advance := func(d time.Duration) { clockNanos.Add(int64(d)) }
	idp := newJWKSServer(t, "k1", &idpKey.PublicKey)
	cfg := &api.OIDCConfig{Issuer: "https://idp.example", Audience: "tollgate", JWKSURL: idp.url,
		RoleClaim: "groups", RoleMap: map[string]api.Role{"finance-viewers": api.RoleViewer, "finance-approvers": api.RoleApprover},
		NameClaim: "email"}
	s := newServer(t, api.Deps{Clock: clock, OIDC: cfg})

	sign := func(key *rsa.PrivateKey, kid string, edit func(jwt.MapClaims)) string {
		now := clock()
		claims := jwt.MapClaims{"iss": "https://idp.example", "aud": "tollgate", "sub": "u-1", "email": "ann@example.com",
			"groups": []string{"staff", "finance-approvers"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if edit != nil {
			edit(claims)
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = kid
		signed, err := tok.SignedString(key)
		require.NoError(t, err)
		return signed
	}
	status := func(token, method, path string, body []byte) (int, []byte) {
		resp, b := send(t, method, s.url+path, token, body, nil)
		return resp.StatusCode, b
	}

	good := sign(idpKey, "k1", nil)
	code, body := status(good, "GET", "/v1/parties", nil)
	require.Equal(t, 200, code, "%s", body)
	// Approver from the group mapping: more than a viewer, less than admin.
	code, _ = status(good, "GET", "/v1/api-keys", nil)
	require.Equal(t, 403, code)
	require.Equal(t, 1, idp.fetchCount(), "the keys are fetched once and cached")

	unsigned, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": "https://idp.example", "aud": "tollgate",
		"sub": "u-1", "email": "ann@example.com", "groups": []string{"finance-approvers"}, "exp": clock().Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	for name, tok := range map[string]string{
		"expired":            sign(idpKey, "k1", func(c jwt.MapClaims) { c["exp"] = clock().Add(-time.Hour).Unix() }),
		"issued in future":   sign(idpKey, "k1", func(c jwt.MapClaims) { c["iat"] = clock().Add(time.Hour).Unix() }),
		"not yet valid":      sign(idpKey, "k1", func(c jwt.MapClaims) { c["nbf"] = clock().Add(time.Hour).Unix() }),
		"wrong audience":     sign(idpKey, "k1", func(c jwt.MapClaims) { c["aud"] = "someone-else" }),
		"wrong issuer":       sign(idpKey, "k1", func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }),
		"wrong key":          sign(otherKey, "k1", nil),
		"unknown kid":        sign(otherKey, "k2", nil),
		"no expiry":          sign(idpKey, "k1", func(c jwt.MapClaims) { delete(c, "exp") }),
		"alg none":           unsigned,
		"garbage":            "a.b.c",
		"tampered signature": good[:len(good)-4] + "AAAA",
	} {
		code, body := status(tok, "GET", "/v1/parties", nil)
		require.Equal(t, 401, code, "%s: %s", name, body)
	}
	require.Equal(t, 1, idp.fetchCount(), "forged tokens reach the identity provider at most once a minute")
	// A valid token whose groups map to no role is authenticated but
	// has no rights.
	code, _ = status(sign(idpKey, "k1", func(c jwt.MapClaims) { c["groups"] = []string{"staff"} }), "GET", "/v1/parties", nil)
	require.Equal(t, 403, code)

	// The identity is the mapped name claim, so maker-checker and the audit
	// trail see who acted.
	code, body = status(good, "POST", "/v1/fx-rates", []byte(`{"base":"USD","quote":"EUR","rate":"0.9","as_of":"2026-03-01T08:00:00Z","source":"ecb"}`))
	require.Equal(t, 201, code, "%s", body)

	// Key rotation: the provider publishes k2 and retires k1. A token
	// naming the unknown k2 makes the key set fetch again, once the minute
	// since the last fetch has passed.
	newKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	idp.rotate("k2", &newKey.PublicKey)
	advance(time.Minute)
	rotated := sign(newKey, "k2", nil)
	code, body = status(rotated, "GET", "/v1/parties", nil)
	require.Equal(t, 200, code, "%s", body)
	require.Equal(t, 2, idp.fetchCount())
	code, _ = status(rotated, "GET", "/v1/parties", nil)
	require.Equal(t, 200, code)
	require.Equal(t, 2, idp.fetchCount(), "the rotated key is cached")
	code, body = status(sign(idpKey, "k1", nil), "GET", "/v1/parties", nil)
	require.Equal(t, 401, code, "the retired key no longer verifies: %s", body)

	// A key published within a minute of the last fetch is not fetched yet.
	thirdKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	idp.rotate("k3", &thirdKey.PublicKey)
	code, _ = status(sign(thirdKey, "k3", nil), "GET", "/v1/parties", nil)
	require.Equal(t, 401, code)

	// An unreachable provider is a 503, not a bad token; cached keys still work.
	idp.setDown(true)
	advance(time.Minute)
	code, body = status(sign(thirdKey, "k3", nil), "GET", "/v1/parties", nil)
	require.Equal(t, 503, code, "%s", body)
	require.Equal(t, 3, idp.fetchCount())
	require.Contains(t, string(body), "cannot fetch the identity provider's signing keys")
	code, body = status(sign(newKey, "k2", nil), "GET", "/v1/parties", nil)
	require.Equal(t, 200, code, "%s", body)
	idp.setDown(false)
	code, body = status(sign(thirdKey, "k3", nil), "GET", "/v1/parties", nil)
	require.Equal(t, 200, code, "a failed fetch does not delay the next: %s", body)
}

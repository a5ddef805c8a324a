package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tollgate/tollgate"
)

// OIDCConfig lets bearer tokens issued by an identity provider stand in for
// API keys. Tokens that do not look like Tollgate keys are checked against
// it: signature (keys from JWKSURL), issuer, audience and expiry; the role
// comes from RoleClaim through RoleMap.
type OIDCConfig struct {
	Issuer   string
	Audience string
	JWKSURL  string
	// RoleClaim names the claim holding the caller's groups or roles (a
	// string or an array of strings); "roles" when empty.
	RoleClaim string
	// RoleMap maps claim values to Tollgate roles. When several values map,
	// the highest ordered role wins. Ingest is never granted this way: it
	// needs a provider, which only API keys carry.
	RoleMap map[string]Role
	// NameClaim names the claim used as the caller's identity in audit and
	// maker-checker comparisons ("sub" when empty); it is prefixed "oidc:".
	NameClaim string
	// HTTPClient fetches the JWKS (http.DefaultClient when nil).
	HTTPClient *http.Client
}

// oidcVerifier checks JWTs. Keys are cached and fetched again when a token
// names a key ID the cache lacks (key rotation), at most once a minute.
type oidcVerifier struct {
	cfg   OIDCConfig
	clock func() time.Time

	mu        sync.Mutex
	keys      map[string]any
	fetchedAt time.Time
}

const jwksMinRefresh = time.Minute

func newOIDCVerifier(cfg OIDCConfig, clock func() time.Time) *oidcVerifier {
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "roles"
	}
	if cfg.NameClaim == "" {
		cfg.NameClaim = "sub"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &oidcVerifier{cfg: cfg, clock: clock}
}

func (v *oidcVerifier) authenticate(ctx context.Context, token string) (Principal, error) {
	unauthorized := func(why string) (Principal, error) {
		return Principal{}, tollgate.Errorf(tollgate.CodeUnauthorized, "bearer token rejected: %s", why)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.key(ctx, kid)
	},
		jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}),
		jwt.WithIssuer(v.cfg.Issuer),
		jwt.WithAudience(v.cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(v.clock),
	)
	if err != nil {
		if tollgate.ErrorCode(err) == tollgate.CodeUnavailable {
			return Principal{}, err
		}
		// The library's message says which check failed and never echoes
		// the token.
		return unauthorized(err.Error())
	}
	name, _ := claims[v.cfg.NameClaim].(string)
	if name == "" {
		return unauthorized("no " + v.cfg.NameClaim + " claim")
	}
	role := Role("")
	for _, val := range claimStrings(claims[v.cfg.RoleClaim]) {
		if r, ok := v.cfg.RoleMap[val]; ok && roleRank[r] > roleRank[role] {
			role = r
		}
	}
	if role == "" {
		return Principal{}, tollgate.Errorf(tollgate.CodeForbidden, "token for %q carries no %s value mapped to a Tollgate role", name, v.cfg.RoleClaim)
	}
	sub, _ := claims["sub"].(string)
	return Principal{KeyID: "oidc:" + sub, Name: "oidc:" + name, Role: role}, nil
}

func claimStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// key returns the verification key for kid, fetching the JWKS when the
// cache lacks it.
func (v *oidcVerifier) key(ctx context.Context, kid string) (any, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.lookup(kid); ok {
		return k, nil
	}
	if v.keys != nil && v.clock().Sub(v.fetchedAt) < jwksMinRefresh {
		return nil, fmt.Errorf("unknown signing key %q", kid)
	}
	keys, err := v.fetch(ctx)
	if err != nil {
		return nil, tollgate.Wrap(tollgate.CodeUnavailable, err, "cannot fetch the identity provider's signing keys")
	}
	v.keys, v.fetchedAt = keys, v.clock()
	if k, ok := v.lookup(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown signing key %q", kid)
}

func (v *oidcVerifier) lookup(kid string) (any, bool) {
	if kid != "" {
		k, ok := v.keys[kid]
		return k, ok
	}
	// A token without kid is accepted only when the set has one key.
	if len(v.keys) == 1 {
		for _, k := range v.keys {
			return k, true
		}
	}
	return nil, false
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func (v *oidcVerifier) fetch(ctx context.Context) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS answered %s", resp.Status)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	out := map[string]any{}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := k.publicKey()
		if err != nil {
			continue // one unusable key must not disable the others
		}
		out[k.Kid] = pub
	}
	return out, nil
}

func (k jwk) publicKey() (any, error) {
	dec := base64.RawURLEncoding.DecodeString
	switch k.Kty {
	case "RSA":
		n, err1 := dec(k.N)
		e, err2 := dec(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			return nil, fmt.Errorf("bad RSA key")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case "EC":
		curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384()}
		c, ok := curves[k.Crv]
		x, err1 := dec(k.X)
		y, err2 := dec(k.Y)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad EC key")
		}
		return &ecdsa.PublicKey{Curve: c, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}, nil //nolint:staticcheck // SA1019: ecdsa.ParseUncompressedPublicKey would reject JWKs with unpadded coordinates that work today
	}
	return nil, fmt.Errorf("key type %q not supported", k.Kty)
}

// looksLikeJWT tells a JWT (three dot-separated parts) from a malformed key.
func looksLikeJWT(token string) bool {
	return strings.Count(token, ".") == 2 && !slices.Contains([]string{"", "."}, token)
}

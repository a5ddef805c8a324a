package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
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
	// HTTPClient fetches the JWKS (a client with a 10 s timeout when nil).
	HTTPClient *http.Client
}

// oidcVerifier checks JWTs in two steps. golang-jwt's validator judges the
// claims (issuer, audience, expiry, issued-at, with leeway) and says which
// check failed without echoing what was expected; go-oidc then verifies the
// signature and algorithm against the identity provider's JWKS (and checks
// the claims again). go-oidc's remote key set caches the keys and fetches
// the set again when no cached key verifies a token, so a rotated-in key is
// picked up on its first token and a retired key drops out with that fetch.
type oidcVerifier struct {
	cfg      OIDCConfig
	parser   *jwt.Parser
	claims   *jwt.Validator
	verifier *oidc.IDTokenVerifier
}

const (
	// jwksMinRefresh spaces fetches of the key set after a successful one.
	jwksMinRefresh = time.Minute
	// jwksMaxBytes bounds the key set document.
	jwksMaxBytes = 1 << 20
	// oidcLeeway tolerates clock skew between the identity provider and us.
	oidcLeeway = 30 * time.Second
)

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
	client := *cfg.HTTPClient
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client.Transport = &jwksTransport{next: next, clock: clock}
	// go-oidc reads the HTTP client from the context it is given here and
	// fetches in the background with it; the context is not a deadline.
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), &client), cfg.JWKSURL)
	return &oidcVerifier{
		cfg:    cfg,
		parser: jwt.NewParser(),
		claims: jwt.NewValidator(jwt.WithIssuer(cfg.Issuer), jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(oidcLeeway), jwt.WithTimeFunc(clock)),
		verifier: oidc.NewVerifier(cfg.Issuer, keySet{keys}, &oidc.Config{
			ClientID:             cfg.Audience,
			SupportedSigningAlgs: []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.PS256},
			// go-oidc compares exp with no leeway: a clock that lags by the
			// leeway gives it the same tolerance as the validator.
			Now: func() time.Time { return clock().Add(-oidcLeeway) },
		}),
	}
}

func (v *oidcVerifier) authenticate(ctx context.Context, token string) (Principal, error) {
	unauthorized := func(why string) (Principal, error) {
		return Principal{}, tollgate.Errorf(tollgate.CodeUnauthorized, "bearer token rejected: %s", why)
	}
	// The libraries' messages say which check failed and never echo the
	// token.
	unverified := jwt.MapClaims{}
	if _, _, err := v.parser.ParseUnverified(token, unverified); err != nil {
		return unauthorized(err.Error())
	}
	if err := v.claims.Validate(unverified); err != nil {
		return unauthorized(err.Error())
	}
	var fetch jwksFetch
	idToken, err := v.verifier.Verify(context.WithValue(ctx, jwksFetchKey{}, &fetch), token)
	if fetch.err != nil {
		return Principal{}, tollgate.Wrap(tollgate.CodeUnavailable, fetch.err, "cannot fetch the identity provider's signing keys")
	}
	if err != nil {
		return unauthorized(err.Error())
	}
	claims := jwt.MapClaims{}
	if err := idToken.Claims(&claims); err != nil {
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
	return Principal{KeyID: "oidc:" + idToken.Subject, Name: "oidc:" + name, Role: role}, nil
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

// keySet is go-oidc's remote key set with one addition: it tells the
// request that the identity provider could not be reached (the HTTP
// client's *url.Error: no connection, a timeout, or an answer other than
// 200, which jwksTransport turns into an error). The verifier turns
// key-set errors into text, and an unreachable provider is a 503, not a bad
// token.
type keySet struct{ remote *oidc.RemoteKeySet }

type jwksFetchKey struct{}

// jwksFetch carries a failed fetch from keySet back to authenticate.
type jwksFetch struct{ err error }

var errNoKey = errors.New("no signing key of the identity provider verifies the token")

func (k keySet) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, token)
	var unreachable *url.Error
	switch {
	case err == nil:
	case errors.Is(err, errJWKSRecent):
		err = errNoKey
	case errors.As(err, &unreachable):
		if f, ok := ctx.Value(jwksFetchKey{}).(*jwksFetch); ok {
			f.err = unreachable
		}
	}
	return payload, err
}

var errJWKSRecent = errors.New("the signing keys were fetched less than a minute ago")

// jwksTransport is the key set's HTTP transport. The set fetches again
// whenever no cached key verifies a token, so without a pause every forged
// token would cost a round trip to the identity provider: after a
// successful fetch the next waits a minute (a token signed by a key that
// appeared meanwhile is refused until then). It also turns an answer other
// than 200 into an error and bounds the document's size.
type jwksTransport struct {
	next  http.RoundTripper
	clock func() time.Time

	mu   sync.Mutex
	last time.Time // of the last successful fetch
}

func (t *jwksTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	recent := !t.last.IsZero() && t.clock().Sub(t.last) < jwksMinRefresh
	t.mu.Unlock()
	if recent {
		return nil, errJWKSRecent
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("JWKS answered %s", resp.Status)
	}
	t.mu.Lock()
	t.last = t.clock()
	t.mu.Unlock()
	resp.Body = http.MaxBytesReader(nil, resp.Body, jwksMaxBytes)
	return resp, nil
}

// looksLikeJWT tells a JWT (three dot-separated parts) from a malformed key.
func looksLikeJWT(token string) bool {
	return strings.Count(token, ".") == 2 && !slices.Contains([]string{"", "."}, token)
}

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/store"
)

type ingestFixture struct {
	url      string
	admin    string
	ingestPV string // ingest key scoped to pv-1
	secret   string
	now      time.Time
	pool     *pgxpool.Pool
}

// newIngestFixture serves the API on a fresh database with two parties,
// a contract and an ingest key; opts adjust the server's dependencies
// (a Temporal client, say) before it is built.
func newIngestFixture(t *testing.T, opts ...func(*api.Deps)) *ingestFixture {
	t.Helper()
	f := &ingestFixture{now: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)}
	pool := testdb.Pool(t)
	f.pool = pool
	clock := func() time.Time { return f.now }
	deps := api.Deps{Pool: pool, Store: store.New(pool, clock), Clock: clock}
	for _, o := range opts {
		o(&deps)
	}
	hs := httptest.NewServer(api.New(deps).Handler())
	t.Cleanup(hs.Close)
	f.url = hs.URL
	f.admin, _, _ = api.GenerateKey()
	require.NoError(t, api.EnsureBootstrapKey(t.Context(), pool, f.admin))

	var p map[string]any
	f.call(t, "POST", "/v1/parties", f.admin, `{"id":"op-1","kind":"operator","name":"Op","currency":"EUR"}`, 201, nil)
	f.call(t, "POST", "/v1/parties", f.admin, `{"id":"pv-1","kind":"provider","name":"Pv","currency":"EUR"}`, 201, &p)
	f.secret = p["signing_secret"].(string)
	f.call(t, "POST", "/v1/contracts", f.admin, `{"id":"c-1","operator_id":"op-1","provider_id":"pv-1","currency":"EUR","timezone":"UTC",
	 "schedule":{"every":"24h"},"grace_period":"0s",
	 "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":"100000.00","rate":"0.10"},{"up_to":null,"rate":"0.08"}],
	          "fee_per_charge":"0.01","minimum_guarantee":"500.00","cap":null,"carry_negative":true},
	 "approval":{"auto_approve_limit":"1000.00","approvals_required":2,"approval_timeout":"48h"},
	 "payout":{"adapter":"simulated"}}`, 201, nil)

	key, id, hash := api.GenerateKey()
	_, err := pool.Exec(t.Context(), `INSERT INTO api_keys (id, name, role, provider_id, secret_hash) VALUES ($1, 'pv-1 feed', 'ingest', 'pv-1', $2)`, id, hash)
	require.NoError(t, err)
	f.ingestPV = key
	return f
}

func (f *ingestFixture) do(t *testing.T, method, path, key, contentType string, body []byte, hdr map[string]string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.url+path, bytes.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b, resp.Header
}

func (f *ingestFixture) call(t *testing.T, method, path, key, body string, want int, out any) {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	code, resp, _ := f.do(t, method, path, key, "application/json", b, nil)
	require.Equal(t, want, code, "%s %s: %s", method, path, resp)
	if out != nil {
		require.NoError(t, json.Unmarshal(resp, out))
	}
}

func txBody(rows ...string) string {
	return `{"transactions":[` + strings.Join(rows, ",") + `]}`
}

func txRow(ext, kind, amount string) string {
	return fmt.Sprintf(`{"provider_id":"pv-1","operator_id":"op-1","external_id":%q,"kind":%q,"amount":%q,"currency":"EUR","occurred_at":"2026-04-01T10:00:00Z"}`, ext, kind, amount)
}

func TestTransactionsAndPosition(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	var res tollgate.IngestResult
	f.call(t, "POST", "/v1/transactions", f.ingestPV, txBody(txRow("a", "charge", "2000.00"), txRow("b", "payout", "100.00"),
		txRow("c", "charge", "oops")), 200, &res)
	require.Equal(t, 2, res.Accepted)
	require.Len(t, res.Rejected, 1)
	require.Equal(t, 2, res.Rejected[0].Index)

	code, raw, _ := f.do(t, "POST", "/v1/transactions", f.ingestPV, "application/json", []byte(txBody(txRow("a", "charge", "2000.00"))), nil)
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"accepted":0,"duplicates":1,"rejected":[]}`, string(raw), "rejected is a list, never null")

	// An ingest key may only send its own provider's rows: a stray row is
	// rejected on its own, a batch of nothing but another provider's rows
	// is refused as a whole (a client using the wrong key).
	other := strings.Replace(txRow("z", "charge", "1.00"), `"provider_id":"pv-1"`, `"provider_id":"pv-2"`, 1)
	res = tollgate.IngestResult{}
	f.call(t, "POST", "/v1/transactions", f.ingestPV, txBody(txRow("a", "charge", "2000.00"), other), 200, &res)
	require.Equal(t, 1, res.Duplicates)
	require.Len(t, res.Rejected, 1)
	require.Equal(t, tollgate.ReasonWrongParty, res.Rejected[0].Reason)
	f.call(t, "POST", "/v1/transactions", f.ingestPV, txBody(other, other), 403, nil)

	var pos map[string]any
	f.call(t, "GET", "/v1/contracts/c-1/position", f.admin, "", 200, &pos)
	require.Equal(t, "1900.00", pos["net_revenue"])
	require.Equal(t, float64(2), pos["transactions"])
	// 10% of 1900 = 190.00; fees 1 x 0.01; top-up to 500.00 = 309.99.
	require.Equal(t, "500.00", pos["total"])
	lines := pos["lines"].([]any)
	require.Equal(t, "190.00", lines[0].(map[string]any)["amount"])
	require.Equal(t, "309.99", lines[2].(map[string]any)["amount"])

	var list struct {
		Items []tollgate.Transaction `json:"items"`
	}
	f.call(t, "GET", "/v1/transactions?contract_id=c-1", f.admin, "", 200, &list)
	require.Len(t, list.Items, 2)
	// Viewers and ingest keys have different rights: an ingest key cannot read.
	f.call(t, "GET", "/v1/contracts/c-1/position", f.ingestPV, "", 403, nil)
}

func TestBadBodiesGetProblemJSON(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	cases := []struct {
		name, ct string
		body     []byte
		want     int
	}{
		{"not json", "application/json", []byte("hello"), 422},
		{"wrong content type", "text/csv", []byte("a,b"), 415},
		{"missing transactions", "application/json", []byte(`{}`), 422},
		{"unknown field", "application/json", []byte(`{"transactions":[],"x":1}`), 422},
		{"empty", "application/json", nil, 422},
		{"too many rows", "application/json", []byte(`{"transactions":[` + strings.Repeat(`{},`, 10000) + `{}]}`), 413},
		{"oversized", "application/json", append([]byte(`{"transactions":["`), bytes.Repeat([]byte("x"), 17<<20)...), 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, body, hdr := f.do(t, "POST", "/v1/transactions", f.admin, c.ct, c.body, nil)
			require.Equal(t, c.want, code, "%s", body)
			require.Equal(t, "application/problem+json", hdr.Get("Content-Type"))
			var p api.Problem
			require.NoError(t, json.Unmarshal(body, &p))
			require.NotEmpty(t, p.Detail)
			require.True(t, strings.HasPrefix(p.Type, "https://tollgate.dev/problems/"))
		})
	}
}

func TestProviderPushSignatures(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	body := []byte(txBody(txRow("p1", "charge", "10.00")))
	push := func(sig string, b []byte) (int, []byte) {
		code, resp, _ := f.do(t, "POST", "/v1/providers/pv-1/events", "", "application/json", b, map[string]string{"Tollgate-Signature": sig})
		return code, resp
	}
	sig := tollgate.Sign(f.secret, f.now, body)
	code, resp := push(sig, body)
	require.Equal(t, 200, code, "%s", resp)
	require.Contains(t, string(resp), `"accepted":1`)

	code, resp = push(sig, body)
	require.Equal(t, 409, code, "a signature seen before is refused: %s", resp)

	// Any archived batch can be processed again; ingest stays exactly-once.
	var again tollgate.IngestResult
	f.call(t, "POST", "/v1/push-archive/1/reprocess", f.admin, "", 200, &again)
	require.Equal(t, 0, again.Accepted)
	require.Equal(t, 1, again.Duplicates)

	code, _ = push(tollgate.Sign("whsec_wrong", f.now, body), body)
	require.Equal(t, 401, code)
	code, _ = push(tollgate.Sign(f.secret, f.now.Add(-6*time.Minute), body), body)
	require.Equal(t, 401, code, "outside the 5-minute tolerance")
	code, _ = push("", body)
	require.Equal(t, 401, code)
	tampered := []byte(txBody(txRow("p1", "charge", "99.00")))
	code, _ = push(tollgate.Sign(f.secret, f.now, body), tampered)
	require.Equal(t, 401, code)

	// Rotation: the new secret works at once, the old one for the grace period.
	var rotated map[string]any
	f.call(t, "POST", "/v1/parties/pv-1/rotate-secret", f.admin, "", 200, &rotated)
	newSecret := rotated["signing_secret"].(string)
	require.NotEqual(t, f.secret, newSecret)
	b2 := []byte(txBody(txRow("p2", "charge", "1.00")))
	code, _ = push(tollgate.Sign(f.secret, f.now.Add(time.Second), b2), b2)
	require.Equal(t, 200, code)
	b3 := []byte(txBody(txRow("p3", "charge", "1.00")))
	code, _ = push(tollgate.Sign(newSecret, f.now.Add(time.Second), b3), b3)
	require.Equal(t, 200, code)
	f.now = f.now.Add(tollgate.SecretGrace + time.Minute)
	b4 := []byte(txBody(txRow("p4", "charge", "1.00")))
	code, _ = push(tollgate.Sign(f.secret, f.now, b4), b4)
	require.Equal(t, 401, code, "the old secret expires after the grace period")

	// A push may not carry another provider's rows.
	b5 := []byte(txBody(strings.Replace(txRow("p5", "charge", "1.00"), `"pv-1"`, `"pv-9"`, 1)))
	code, resp = push(tollgate.Sign(newSecret, f.now, b5), b5)
	require.Equal(t, 200, code)
	require.Contains(t, string(resp), tollgate.ReasonWrongParty)
}

func TestDeadLetterAPI(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	f.call(t, "POST", "/v1/transactions", f.admin, txBody(txRow("d1", "charge", "1.001")), 200, nil)
	var list struct {
		Items []store.DeadLetter `json:"items"`
	}
	f.call(t, "GET", "/v1/dead-letters?provider_id=pv-1&status=open", f.admin, "", 200, &list)
	require.Len(t, list.Items, 1)
	id := list.Items[0].ID
	require.Contains(t, list.Items[0].Error, "decimals")

	var rr store.ReplayResult
	f.call(t, "POST", fmt.Sprintf("/v1/dead-letters/%d/replay", id), f.admin, "", 200, &rr)
	require.Equal(t, "open", rr.DeadLetter.Status, "the same bad row fails again")
	f.call(t, "POST", fmt.Sprintf("/v1/dead-letters/%d/replay", id), f.admin, `{"transaction":`+txRow("d1", "charge", "1.00")+`}`, 200, &rr)
	require.Equal(t, "replayed", rr.DeadLetter.Status)

	f.call(t, "GET", "/v1/dead-letters?status=open", f.admin, "", 200, &list)
	require.Len(t, list.Items, 1, "the failed replay was dead-lettered again")
	f.call(t, "POST", fmt.Sprintf("/v1/dead-letters/%d/discard", list.Items[0].ID), f.admin, `{"reason":"superseded"}`, 200, nil)
	f.call(t, "POST", "/v1/dead-letters/abc/discard", f.admin, "", 422, nil)
	f.call(t, "POST", "/v1/dead-letters/999999/replay", f.admin, "", 404, nil)
	f.call(t, "GET", "/v1/dead-letters?status=bogus", f.admin, "", 422, nil)
}

func TestContractsAndTermsMakerChecker(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	f.call(t, "POST", "/v1/contracts", f.admin, `{"id":"c-2","operator_id":"op-1","provider_id":"pv-1","currency":"EUR"}`, 422, nil)
	var tv tollgate.TermsVersion
	f.call(t, "POST", "/v1/contracts/c-1/terms", f.admin, `{"effective_from":"2026-05-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.2"}],"fee_per_charge":"0","minimum_guarantee":"0","cap":null,"carry_negative":false}`, 201, &tv)
	require.Equal(t, 2, tv.Version)
	require.Equal(t, "pending", tv.Status)
	f.call(t, "POST", "/v1/contracts/c-1/terms/2/approve", f.admin, "", 403, nil) // the author cannot approve
	f.call(t, "POST", "/v1/contracts/c-1/terms/x/approve", f.admin, "", 422, nil)
	f.call(t, "POST", "/v1/contracts/c-1/terms", f.admin, `{"effective_from":"2026-05-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"1.5"}]}`, 422, nil)
	f.call(t, "GET", "/v1/contracts/nope", f.admin, "", 404, nil)
	f.call(t, "POST", "/v1/fx-rates", f.admin, `{"base":"USD","quote":"EUR","rate":"0.92","as_of":"2026-04-01T00:00:00Z","source":"ecb"}`, 201, nil)
	f.call(t, "POST", "/v1/fx-rates", f.admin, `{"base":"USD","quote":"EUR","rate":"0.92","as_of":"2026-04-01T00:00:00Z","source":"ecb"}`, 201, nil)
	f.call(t, "POST", "/v1/fx-rates", f.admin, `{"base":"USD","quote":"EUR","rate":"0.93","as_of":"2026-04-01T00:00:00Z","source":"ecb"}`, 409, nil)
	f.call(t, "POST", "/v1/fx-rates", f.admin, `{"base":"USD","quote":"EUR","rate":"-1","as_of":"2026-04-01T00:00:00Z","source":"ecb"}`, 422, nil)
}

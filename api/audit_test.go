package api_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/store"
)

type auditList struct {
	Items      []store.AuditRecord `json:"items"`
	NextCursor string              `json:"next_cursor"`
}

func TestAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	var created map[string]any
	f.call(t, "POST", "/v1/api-keys", f.admin, `{"name":"pv-1 uploader","role":"ingest","provider_id":"pv-1"}`, 201, &created)
	key := created["key"].(string)
	id := created["id"].(string)
	require.True(t, strings.HasPrefix(key, "tg_"+id+"_"), key)
	require.Equal(t, "ingest", created["role"])

	var res tollgate.IngestResult
	f.call(t, "POST", "/v1/transactions", key, txBody(txRow("k1", "charge", "5.00")), 200, &res)
	require.Equal(t, 1, res.Accepted)

	// Listing shows metadata only: the key, its secret and its hash never.
	code, body, _ := f.do(t, "GET", "/v1/api-keys", f.admin, "", nil, nil)
	require.Equal(t, 200, code)
	secret := key[strings.LastIndex(key, "_")+1:]
	require.NotContains(t, string(body), secret)
	require.NotContains(t, string(body), "secret_hash")
	require.NotContains(t, string(body), `"key"`)
	require.Contains(t, string(body), id)

	for name, bad := range map[string]string{
		"ingest without provider":     `{"name":"x","role":"ingest"}`,
		"viewer with provider":        `{"name":"x","role":"viewer","provider_id":"pv-1"}`,
		"ingest for an operator":      `{"name":"x","role":"ingest","provider_id":"op-1"}`,
		"ingest for nobody":           `{"name":"x","role":"ingest","provider_id":"pv-404"}`,
		"unknown role":                `{"name":"x","role":"root"}`,
		"expiry in the past":          `{"name":"x","role":"viewer","expires_at":"2020-01-01T00:00:00Z"}`,
		"no name":                     `{"role":"viewer"}`,
		"unknown field":               `{"name":"x","role":"viewer","scopes":["all"]}`,
		"expires_at not a time":       `{"name":"x","role":"viewer","expires_at":"tomorrow"}`,
		"role of the wrong JSON type": `{"name":"x","role":4}`,
	} {
		code, body, hdr := f.do(t, "POST", "/v1/api-keys", f.admin, "application/json", []byte(bad), nil)
		require.Equal(t, 422, code, "%s: %s", name, body)
		require.Equal(t, "application/problem+json", hdr.Get("Content-Type"), name)
	}
	// Keys are an admin matter.
	operator := ""
	f.call(t, "POST", "/v1/api-keys", f.admin, `{"name":"ops","role":"operator"}`, 201, &created)
	operator = created["key"].(string)
	f.call(t, "POST", "/v1/api-keys", operator, `{"name":"mine","role":"admin"}`, 403, nil)
	f.call(t, "GET", "/v1/api-keys", operator, "", 403, nil)

	var revoked map[string]any
	f.call(t, "DELETE", "/v1/api-keys/"+id, f.admin, "", 200, &revoked)
	require.NotEmpty(t, revoked["revoked_at"])
	f.call(t, "POST", "/v1/transactions", key, txBody(txRow("k2", "charge", "5.00")), 401, nil)
	f.call(t, "DELETE", "/v1/api-keys/"+id, f.admin, "", 200, nil) // again: no-op
	f.call(t, "DELETE", "/v1/api-keys/nope", f.admin, "", 404, nil)

	var trail auditList
	f.call(t, "GET", "/v1/audit?object=api_key/"+id, f.admin, "", 200, &trail)
	require.Len(t, trail.Items, 2, "one create, one revoke (the repeated revoke changed nothing)")
	require.Equal(t, "api_key.revoke", trail.Items[0].Action)
	require.Equal(t, "api_key.create", trail.Items[1].Action)
	require.Equal(t, "bootstrap-admin", trail.Items[1].Actor)
	require.NotContains(t, string(trail.Items[1].After), secret)
}

func TestAuditTrail(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	// The fixture created two parties and a contract as the bootstrap admin.
	var all auditList
	f.call(t, "GET", "/v1/audit", f.admin, "", 200, &all)
	require.NotEmpty(t, all.Items)
	code, raw, _ := f.do(t, "GET", "/v1/audit", f.admin, "", nil, nil)
	require.Equal(t, 200, code)
	require.NotContains(t, string(raw), f.secret, "signing secrets never enter the trail")

	var parties auditList
	f.call(t, "GET", "/v1/audit?action=party.create", f.admin, "", 200, &parties)
	require.Len(t, parties.Items, 2)
	var one auditList
	f.call(t, "GET", "/v1/audit?object=party/pv-1", f.admin, "", 200, &one)
	require.Len(t, one.Items, 1)
	require.Equal(t, "pv-1", one.Items[0].ObjectID)
	require.NotEmpty(t, one.Items[0].RequestID)
	require.JSONEq(t, `"[redacted]"`, string(mustField(t, one.Items[0].After, "signing_secret")))

	// Terms maker-checker leaves both steps, with who did them.
	f.call(t, "POST", "/v1/contracts/c-1/terms", f.admin, `{"effective_from":"2026-05-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.05"}],"carry_negative":false}`, 201, nil)
	approver := insertKey(t, f.pool, "alice", "approver", "")
	f.call(t, "POST", "/v1/contracts/c-1/terms/2/approve", approver, "", 200, nil)
	var terms auditList
	f.call(t, "GET", "/v1/audit?object=contract/c-1&actor=alice", f.admin, "", 200, &terms)
	require.Len(t, terms.Items, 1)
	require.Equal(t, "contract.terms_approve", terms.Items[0].Action)

	// Paging walks newest to oldest without overlap.
	var p1, p2 auditList
	f.call(t, "GET", "/v1/audit?limit=2", f.admin, "", 200, &p1)
	require.Len(t, p1.Items, 2)
	f.call(t, "GET", "/v1/audit?limit=2&cursor="+url.QueryEscape(p1.NextCursor), f.admin, "", 200, &p2)
	require.Less(t, p2.Items[0].ID, p1.Items[1].ID)
	f.call(t, "GET", "/v1/audit?from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z", f.admin, "", 200, &p2)
	require.Empty(t, p2.Items)
	f.call(t, "GET", "/v1/audit?from=yesterday", f.admin, "", 422, nil)

	var v store.AuditReport
	f.call(t, "GET", "/v1/audit/verify", f.admin, "", 200, &v)
	require.True(t, v.OK, "%+v", v.Break)
	require.Equal(t, v.Rows, v.HeadSeq)

	// The application's role cannot change the trail.
	for _, stmt := range []string{
		`UPDATE audit_log SET actor = 'mallory' WHERE id = 1`,
		`DELETE FROM audit_log WHERE id = 1`,
		`TRUNCATE audit_log`,
		`UPDATE audit_head SET seq = 0`,
		`DELETE FROM audit_head`,
	} {
		_, err := f.pool.Exec(t.Context(), stmt)
		require.Error(t, err, stmt)
		require.Contains(t, err.Error(), "audit", stmt)
	}

	// An edit made behind the triggers' back is found, and named.
	tamper(t, f.pool, `UPDATE audit_log SET after = '{"id":"pv-1","name":"Someone else"}' WHERE id = 2`)
	f.call(t, "GET", "/v1/audit/verify", f.admin, "", 200, &v)
	require.False(t, v.OK)
	require.NotNil(t, v.Break)
	require.Equal(t, int64(2), v.Break.ID)
	require.Equal(t, "content", v.Break.Kind)
}

// tamper runs stmt as the table owner with the refusal triggers off, the
// way someone with the owner's password could.
func tamper(t *testing.T, pool *pgxpool.Pool, stmt string) {
	t.Helper()
	for _, s := range []string{`ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable`, stmt,
		`ALTER TABLE audit_log ENABLE TRIGGER audit_log_immutable`} {
		_, err := pool.Exec(t.Context(), s)
		require.NoError(t, err, s)
	}
}

func TestAuditVerifyFindsDeletedRows(t *testing.T) {
	t.Parallel()
	f := newIngestFixture(t)
	var v store.AuditReport
	tamper(t, f.pool, `DELETE FROM audit_log WHERE id = 2`)
	f.call(t, "GET", "/v1/audit/verify", f.admin, "", 200, &v)
	require.False(t, v.OK)
	require.Equal(t, int64(3), v.Break.ID)
	require.Equal(t, "gap", v.Break.Kind)

	g := newIngestFixture(t)
	tamper(t, g.pool, `DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)`)
	g.call(t, "GET", "/v1/audit/verify", g.admin, "", 200, &v)
	require.False(t, v.OK)
	require.Equal(t, "head", v.Break.Kind)
}

func mustField(t *testing.T, doc json.RawMessage, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(doc, &m), "%s", doc)
	require.Contains(t, m, name)
	return m[name]
}

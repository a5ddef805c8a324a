package devstack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/devstack"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/store"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// startStack boots the real stack in-process: embedded Temporal (in
// memory), a fresh migrated PostgreSQL database, the worker and the API, all
// on random ports. The tests that call it stay serial: each stack is a whole
// Temporal server, and two at once would crowd a small machine.
func startStack(t *testing.T) (*devstack.Stack, string) {
	t.Helper()
	key, _, _ := api.GenerateKey()
	st, err := devstack.Start(t.Context(), devstack.Config{
		DatabaseURL: testdb.URL(t),
		APIAddr:     "127.0.0.1:0",
		AdminKey:    key,
	})
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	return st, key
}

func do(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func TestStackEndToEnd(t *testing.T) {
	st, key := startStack(t)

	code, body := do(t, http.MethodGet, st.APIURL+"/healthz", "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok", body["status"])

	code, body = do(t, http.MethodGet, st.APIURL+"/readyz", "", "")
	require.Equal(t, http.StatusOK, code, body)

	// API -> workflow -> activity -> PostgreSQL -> back.
	code, body = do(t, http.MethodPost, st.APIURL+"/v1/diagnostics/roundtrip", key, `{"message":"settle up"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "settle up", body["message"])
	wfID, _ := body["workflow_id"].(string)
	require.True(t, strings.HasPrefix(wfID, "roundtrip-"), wfID)
	var stored string
	require.NoError(t, st.Pool.QueryRow(t.Context(), `SELECT message FROM pings WHERE workflow_id = $1`, wfID).Scan(&stored))
	require.Equal(t, "settle up", stored)

	// Unauthenticated and malformed requests get problem+json 4xx.
	code, body = do(t, http.MethodPost, st.APIURL+"/v1/diagnostics/roundtrip", "", `{}`)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "https://tollgate.dev/problems/unauthorized", body["type"])
	code, body = do(t, http.MethodPost, st.APIURL+"/v1/diagnostics/roundtrip", key, `{"message":`)
	require.Equal(t, http.StatusUnprocessableEntity, code, body)
	code, _ = do(t, http.MethodPost, st.APIURL+"/v1/diagnostics/roundtrip", key, `{"nope":1}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
}

func TestReadyzReportsPostgresDown(t *testing.T) {
	st, _ := startStack(t)
	st.Pool.Close() // a closed pool answers like an unreachable database
	code, body := do(t, http.MethodGet, st.APIURL+"/readyz", "", "")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body["detail"], "PostgreSQL")
}

// The demo data gives every demo contract a live position, and seeding
// again changes nothing.
func TestDemoData(t *testing.T) {
	st, key := startStack(t)
	s := store.New(st.Pool, nil)
	require.NoError(t, devstack.SeedDemo(t.Context(), s, time.Now(), io.Discard))
	require.NoError(t, devstack.SeedDemo(t.Context(), s, time.Now(), io.Discard), "idempotent")
	for _, id := range []string{"demo-arcade-studio", "demo-arcade-music", "demo-kiosk-studio"} {
		code, body := do(t, http.MethodGet, st.APIURL+"/v1/contracts/"+id+"/position", key, "")
		require.Equal(t, http.StatusOK, code, body)
		require.Greater(t, body["transactions"].(float64), float64(900), id)
	}
	var n int
	require.NoError(t, st.Pool.QueryRow(t.Context(), `SELECT count(*) FROM transactions`).Scan(&n))
	require.Equal(t, 3000, n)
}

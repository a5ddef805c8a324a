package activities

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate/tollgate"
)

var jan1 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestSignKnownVector(t *testing.T) {
	t.Parallel()
	// Computed independently: printf '%s' '1767225600.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
	require.Equal(t, "t=1767225600,v1=6d204545ff126a339c00513d93603299c984074ce1331c3537c3f6c976b49019",
		tollgate.Sign("whsec_test", jan1, []byte(`{"a":1}`)))
}

type parties map[string]tollgate.Party

func (p parties) GetPartyForNotify(_ context.Context, id string) (tollgate.Party, error) {
	if party, ok := p[id]; ok {
		return party, nil
	}
	return tollgate.Party{}, tollgate.Errorf(tollgate.CodeNotFound, "party %s not found", id)
}

// verify checks a delivery the way a receiver should.
func verify(t *testing.T, secret string, r *http.Request, body []byte) {
	sig := r.Header.Get(HeaderSignature)
	ts, v1, ok := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
	require.True(t, ok, sig)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	require.Equal(t, hex.EncodeToString(mac.Sum(nil)), v1)
	require.Equal(t, "1767225600", ts)
}

func TestSendWebhookSignsAndDelivers(t *testing.T) {
	t.Parallel()
	var body []byte
	var req *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		req = r
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	a := &Activities{Clock: func() time.Time { return jan1 }, HTTP: srv.Client(),
		Parties: parties{"p1": {ID: "p1", WebhookURL: srv.URL, SigningSecret: "sec"}}}
	st := tollgate.Statement{Currency: "EUR", Total: "12.34"}
	res, err := a.SendWebhook(t.Context(), WebhookRequest{PartyID: "p1", EventID: "cycle-x/cycle.paid/p1",
		Event: WebhookEvent{Type: EventCyclePaid, CycleID: "cycle-x", Statement: &st, Payout: &tollgate.PayoutState{Status: "confirmed", Reference: "r1"}}})
	require.NoError(t, err)
	require.Equal(t, WebhookResult{Delivered: true, Status: http.StatusAccepted}, res)
	verify(t, "sec", req, body)
	require.Equal(t, "cycle-x/cycle.paid/p1", req.Header.Get(HeaderEventID))
	require.Equal(t, EventCyclePaid, req.Header.Get(HeaderEvent))
	var got map[string]any
	require.NoError(t, json.Unmarshal(body, &got))
	require.Equal(t, "cycle.paid", got["type"])
	require.Equal(t, "12.34", got["statement"].(map[string]any)["total"])
}

func TestSendWebhookSkipsAndFailures(t *testing.T) {
	t.Parallel()
	status := http.StatusInternalServerError
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	t.Cleanup(srv.Close)
	a := &Activities{HTTP: srv.Client(), Parties: parties{
		"nourl":    {ID: "nourl"},
		"nosecret": {ID: "nosecret", WebhookURL: srv.URL},
		"p":        {ID: "p", WebhookURL: srv.URL, SigningSecret: "s"},
	}}
	res, err := a.SendWebhook(t.Context(), WebhookRequest{PartyID: "nourl"})
	require.NoError(t, err)
	require.Contains(t, res.Skipped, "no webhook URL")
	res, err = a.SendWebhook(t.Context(), WebhookRequest{PartyID: "nosecret"})
	require.NoError(t, err)
	require.Contains(t, res.Skipped, "no signing secret")

	_, err = a.SendWebhook(t.Context(), WebhookRequest{PartyID: "p"})
	requireAppErr(t, err, tollgate.ErrTypeUnavailable, false)
	status = http.StatusGone
	_, err = a.SendWebhook(t.Context(), WebhookRequest{PartyID: "p"})
	requireAppErr(t, err, tollgate.ErrTypeInvalid, true)
	_, err = a.SendWebhook(t.Context(), WebhookRequest{PartyID: "missing"})
	requireAppErr(t, err, tollgate.ErrTypeNotFound, true)
}

func requireAppErr(t *testing.T, err error, typ string, nonRetryable bool) {
	t.Helper()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "%v", err)
	require.Equal(t, typ, app.Type(), app.Error())
	require.Equal(t, nonRetryable, app.NonRetryable())
}

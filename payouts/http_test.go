package payouts_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/payouts"
)

// fakeService is a payout service that honours Idempotency-Key and can be
// told to answer with a given status code.
type fakeService struct {
	mu       sync.Mutex
	byKey    map[string]string
	status   map[string]string
	failWith int
	bodies   []map[string]any
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWith != 0 {
		w.WriteHeader(f.failWith)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "payee account closed"})
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/payouts":
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.bodies = append(f.bodies, body)
		key := r.Header.Get("Idempotency-Key")
		ref, ok := f.byKey[key]
		if !ok {
			ref = "ref-" + key
			f.byKey[key] = ref
			f.status[ref] = "pending"
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"reference": ref, "status": "pending"})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/payouts/"):
		ref := strings.TrimPrefix(r.URL.Path, "/payouts/")
		st, ok := f.status[ref]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"reference": ref, "status": st, "reason": "returned"})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func newService(t *testing.T) (*fakeService, *payouts.HTTP) {
	f := &fakeService{byKey: map[string]string{}, status: map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	a := payouts.NewHTTP(payouts.HTTPOptions{InitiateURL: srv.URL + "/payouts", StatusURL: srv.URL + "/payouts/", Client: srv.Client()})
	return f, a
}

func TestHTTPInitiateAndPoll(t *testing.T) {
	t.Parallel()
	f, a := newService(t)
	r := payouts.Request{IdempotencyKey: "cycle-c1-20260101T0000Z", PayeeID: "prov-1", Amount: 12345, Currency: "EUR", Options: map[string]string{"iban": "X"}}
	ref, err := a.Initiate(t.Context(), r)
	require.NoError(t, err)
	again, err := a.Initiate(t.Context(), r)
	require.NoError(t, err)
	require.Equal(t, ref, again)
	require.Len(t, f.byKey, 1)
	require.Equal(t, "123.45", f.bodies[0]["amount"])
	require.EqualValues(t, 12345, f.bodies[0]["amount_minor"])
	require.Equal(t, "EUR", f.bodies[0]["currency"])

	res, err := a.Status(t.Context(), ref)
	require.NoError(t, err)
	require.Equal(t, payouts.StatusPending, res.Status)

	f.mu.Lock()
	f.status[ref] = "failed"
	f.mu.Unlock()
	res, err = a.Status(t.Context(), ref)
	require.NoError(t, err)
	require.Equal(t, payouts.Result{Status: payouts.StatusFailed, Reason: "returned"}, res)

	f.mu.Lock()
	f.status[ref] = "confirmed"
	f.mu.Unlock()
	res, err = a.Status(t.Context(), ref)
	require.NoError(t, err)
	require.Equal(t, payouts.StatusConfirmed, res.Status)
}

func TestHTTPErrorsAreClassified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status    int
		transient bool
	}{
		{http.StatusServiceUnavailable, true},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusUnprocessableEntity, false},
		{http.StatusConflict, false},
	} {
		f, a := newService(t)
		f.failWith = tc.status
		_, err := a.Initiate(t.Context(), payouts.Request{IdempotencyKey: "k", PayeeID: "p", Amount: 1, Currency: "EUR"})
		require.Error(t, err)
		require.Equal(t, tc.transient, payouts.IsTransient(err), "%d: %v", tc.status, err)
		if !tc.transient {
			require.ErrorContains(t, err, "payee account closed")
		}
	}
}

func TestHTTPUnreachableIsTransient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	a := payouts.NewHTTP(payouts.HTTPOptions{InitiateURL: srv.URL, StatusURL: srv.URL})
	_, err := a.Initiate(t.Context(), payouts.Request{IdempotencyKey: "k", PayeeID: "p", Amount: 1, Currency: "EUR"})
	require.True(t, payouts.IsTransient(err), err)
	_, err = a.Status(t.Context(), "ref")
	require.Equal(t, tollgate.CodeUnavailable, tollgate.ErrorCode(err))
}

func TestHTTPUnknownStatusIsTransient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"processing"}`))
	}))
	t.Cleanup(srv.Close)
	a := payouts.NewHTTP(payouts.HTTPOptions{InitiateURL: srv.URL, StatusURL: srv.URL})
	_, err := a.Status(t.Context(), "ref")
	require.True(t, payouts.IsTransient(err))
	_, err = a.Initiate(t.Context(), payouts.Request{IdempotencyKey: "k", PayeeID: "p", Amount: 1, Currency: "EUR"})
	require.ErrorContains(t, err, "without a reference")
}

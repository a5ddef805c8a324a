package payouts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate/tollgate"
)

// HTTPName is the adapter name contracts use for the generic HTTP adapter.
const HTTPName = tollgate.PayoutAdapterHTTP

// HTTPOptions configure the generic HTTP payout adapter.
type HTTPOptions struct {
	// InitiateURL receives POST with an httpInstruction body and an
	// Idempotency-Key header.
	InitiateURL string
	// StatusURL is fetched with GET after the reference is appended as a
	// path segment.
	StatusURL string
	// Token, when set, is sent as a bearer token.
	Token  string
	Client *http.Client
}

// HTTP pays out through a remote service that honours Idempotency-Key.
type HTTP struct {
	opts HTTPOptions
}

// NewHTTP returns the adapter; the client defaults to http.DefaultClient.
func NewHTTP(opts HTTPOptions) *HTTP {
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	return &HTTP{opts: opts}
}

// httpInstruction is the JSON the service receives. Amount is a decimal
// string for people; AmountMinor is the exact integer for machines.
type httpInstruction struct {
	IdempotencyKey string            `json:"idempotency_key"`
	Payee          string            `json:"payee"`
	Amount         string            `json:"amount"`
	AmountMinor    int64             `json:"amount_minor"`
	Currency       string            `json:"currency"`
	Options        map[string]string `json:"options,omitempty"`
}

// httpAnswer is what the service answers to both calls.
type httpAnswer struct {
	Reference string `json:"reference"`
	Status    string `json:"status"`
	Reason    string `json:"reason"`
	Error     string `json:"error"`
}

// Initiate posts the instruction. A 2xx answer carries the reference.
func (h *HTTP) Initiate(ctx context.Context, req Request) (string, error) {
	if err := req.Validate(); err != nil {
		return "", err
	}
	body, err := json.Marshal(httpInstruction{
		IdempotencyKey: req.IdempotencyKey, Payee: req.PayeeID,
		Amount:      tollgate.FormatAmount(tollgate.FromMinorUnits(req.Amount, req.Currency), req.Currency),
		AmountMinor: req.Amount, Currency: string(req.Currency), Options: req.Options,
	})
	if err != nil {
		return "", tollgate.Wrap(tollgate.CodeInternal, err, "payout: encode instruction")
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, h.opts.InitiateURL, bytes.NewReader(body))
	if err != nil {
		return "", tollgate.Wrap(tollgate.CodeInvalid, err, "payout: initiate URL")
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Idempotency-Key", req.IdempotencyKey)
	ans, err := h.do(hr)
	if err != nil {
		return "", err
	}
	if ans.Reference == "" {
		return "", Transient("payout service answered without a reference")
	}
	return ans.Reference, nil
}

// Status polls the payout.
func (h *HTTP) Status(ctx context.Context, reference string) (Result, error) {
	u := strings.TrimSuffix(h.opts.StatusURL, "/") + "/" + url.PathEscape(reference)
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Result{}, tollgate.Wrap(tollgate.CodeInvalid, err, "payout: status URL")
	}
	ans, err := h.do(hr)
	if err != nil {
		return Result{}, err
	}
	switch s := Status(ans.Status); s {
	case StatusPending, StatusConfirmed:
		return Result{Status: s}, nil
	case StatusFailed:
		return Result{Status: s, Reason: ans.Reason}, nil
	default:
		// An answer we cannot read may be a half-deployed service; asking
		// again is safe, guessing is not.
		return Result{}, Transient("payout service answered unknown status %q for %q", ans.Status, reference)
	}
}

// do sends a request and sorts the outcome: network trouble, 408, 429 and
// 5xx may pass; any other 4xx is the service refusing for good.
func (h *HTTP) do(hr *http.Request) (httpAnswer, error) {
	if h.opts.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+h.opts.Token)
	}
	hr.Header.Set("Accept", "application/json")
	resp, err := h.opts.Client.Do(hr)
	if err != nil {
		return httpAnswer{}, Transient("payout service %s: %v", hr.URL.Host, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return httpAnswer{}, Transient("payout service %s: reading answer: %v", hr.URL.Host, err)
	}
	var ans httpAnswer
	decodeErr := json.Unmarshal(raw, &ans)
	switch {
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return ans, Transient("payout service %s answered %d%s", hr.URL.Host, resp.StatusCode, detail(ans))
	case resp.StatusCode >= 400:
		return ans, Declined("payout service %s refused with %d%s", hr.URL.Host, resp.StatusCode, detail(ans))
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return ans, Transient("payout service %s answered unexpected %d", hr.URL.Host, resp.StatusCode)
	case decodeErr != nil:
		return ans, Transient("payout service %s answered %d with a body that is not JSON", hr.URL.Host, resp.StatusCode)
	}
	return ans, nil
}

func detail(a httpAnswer) string {
	switch {
	case a.Error != "":
		return fmt.Sprintf(": %s", a.Error)
	case a.Reason != "":
		return fmt.Sprintf(": %s", a.Reason)
	}
	return ""
}

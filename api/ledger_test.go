package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/ledger"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var ledgerT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// ledgerClock stamps entries; the API's goroutines read it, so it is locked.
type ledgerClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ledgerClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *ledgerClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func ledgerKey(party string, p ledger.Purpose, cur tollgate.Currency) ledger.AccountKey {
	return ledger.AccountKey{PartyID: party, Purpose: p, Currency: cur}
}

var (
	lkOpEUR   = ledgerKey("op-1", ledger.PurposeOperatorPayable, "EUR")
	lkProvEUR = ledgerKey("prov-1", ledger.PurposeProviderReceivable, "EUR")
	lkOpJPY   = ledgerKey("op-1", ledger.PurposeOperatorPayable, "JPY")
	lkFxJPY   = ledgerKey("tollgate", ledger.PurposeFXRevaluation, "JPY")
	lkOpKWD   = ledgerKey("op-1", ledger.PurposeOperatorPayable, "KWD")
	lkProvKWD = ledgerKey("prov-1", ledger.PurposeProviderReceivable, "KWD")
)

func ledgerMove(idem, cycle string, from, to ledger.AccountKey, amount int64) ledger.EntryInput {
	return ledger.EntryInput{IdempotencyKey: idem, CycleID: cycle, Description: "test " + idem,
		Postings: []ledger.PostingInput{{Account: from, Amount: -amount}, {Account: to, Amount: amount}}}
}

// ledgerFixture is an API on a fresh database with a few posted entries.
type ledgerFixture struct {
	url      string
	admin    string
	viewer   string
	pool     *pgxpool.Pool
	ledger   *ledger.Ledger
	entries  []ledger.Entry   // in posting order
	accounts map[string]int64 // "party/purpose/currency" -> id
}

func newLedgerFixture(t *testing.T) *ledgerFixture {
	t.Helper()
	ctx := t.Context()
	pool := testdb.Pool(t)
	clk := &ledgerClock{t: ledgerT0}
	l := ledger.New(pool, ledger.WithClock(clk.now))
	srv := httptest.NewServer(api.New(api.Deps{Pool: pool, Ledger: l}).Handler())
	t.Cleanup(srv.Close)

	admin, _, _ := api.GenerateKey()
	require.NoError(t, api.EnsureBootstrapKey(ctx, pool, admin))
	viewer, id, hash := api.GenerateKey()
	_, err := pool.Exec(ctx, `INSERT INTO api_keys (id, name, role, secret_hash) VALUES ($1, 'viewer', 'viewer', $2)`, id, hash)
	require.NoError(t, err)

	f := &ledgerFixture{url: srv.URL, admin: admin, viewer: viewer, pool: pool, ledger: l, accounts: map[string]int64{}}
	post := func(at time.Time, in ledger.EntryInput) {
		clk.set(at)
		e, err := l.Post(ctx, in)
		require.NoError(t, err)
		f.entries = append(f.entries, e)
	}
	post(ledgerT0, ledgerMove("e1", "c1", lkOpEUR, lkProvEUR, 1234))
	post(ledgerT0.Add(time.Hour), ledgerMove("e2", "c1", lkOpEUR, lkProvEUR, 100))
	post(ledgerT0.Add(2*time.Hour), ledgerMove("e3", "c2", lkOpJPY, lkFxJPY, 5000))
	clk.set(ledgerT0.Add(3 * time.Hour))
	rev, err := l.Reverse(ctx, f.entries[0].ID, "e1-rev", "wrong amount")
	require.NoError(t, err)
	f.entries = append(f.entries, rev)
	post(ledgerT0.Add(4*time.Hour), ledgerMove("e5", "", lkOpKWD, lkProvKWD, 1))

	for _, k := range []ledger.AccountKey{lkOpEUR, lkProvEUR, lkOpJPY, lkFxJPY, lkOpKWD, lkProvKWD} {
		a, err := l.AccountByKey(ctx, k)
		require.NoError(t, err)
		f.accounts[accountName(k)] = a.ID
	}
	return f
}

func accountName(k ledger.AccountKey) string {
	return k.PartyID + "/" + string(k.Purpose) + "/" + string(k.Currency)
}

func (f *ledgerFixture) id(k ledger.AccountKey) int64 { return f.accounts[accountName(k)] }

// get calls the API with the given key and decodes the JSON answer into out
// (when not nil), requiring status.
func (f *ledgerFixture) get(t *testing.T, path, apiKey string, status int, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.url+path, nil)
	require.NoError(t, err)
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var raw json.RawMessage
	require.NoError(t, json.NewDecoder(res.Body).Decode(&raw))
	require.Equal(t, status, res.StatusCode, "GET %s: %s", path, raw)
	if status >= 400 {
		require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	} else {
		require.Contains(t, res.Header.Get("Content-Type"), "application/json")
	}
	if out != nil {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(out), "GET %s: %s", path, raw)
	}
	return res
}

// Wire shapes, decoded strictly so an unexpected or renamed field fails.
type wireAccount struct {
	ID           int64     `json:"id"`
	PartyID      string    `json:"party_id"`
	Purpose      string    `json:"purpose"`
	Currency     string    `json:"currency"`
	Balance      string    `json:"balance"`
	BalanceMinor int64     `json:"balance_minor"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	AsOf         *struct {
		Time         time.Time `json:"time"`
		Balance      string    `json:"balance"`
		BalanceMinor int64     `json:"balance_minor"`
	} `json:"as_of"`
}

type wirePosting struct {
	AccountID   int64  `json:"account_id"`
	PartyID     string `json:"party_id"`
	Purpose     string `json:"purpose"`
	Currency    string `json:"currency"`
	Amount      string `json:"amount"`
	AmountMinor int64  `json:"amount_minor"`
}

type wireEntry struct {
	ID             int64         `json:"id"`
	IdempotencyKey string        `json:"idempotency_key"`
	CycleID        string        `json:"cycle_id"`
	Description    string        `json:"description"`
	ReversesID     int64         `json:"reverses_id"`
	PostedAt       time.Time     `json:"posted_at"`
	ContentHash    string        `json:"content_hash"`
	Postings       []wirePosting `json:"postings"`
}

type wirePage[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

type wireVerify struct {
	OK           bool   `json:"ok"`
	Entries      int64  `json:"entries"`
	Accounts     int64  `json:"accounts"`
	Head         string `json:"head"`
	TrialBalance []struct {
		Currency     string `json:"currency"`
		Balance      string `json:"balance"`
		BalanceMinor int64  `json:"balance_minor"`
	} `json:"trial_balance"`
	Break *struct {
		Kind      string `json:"kind"`
		Seq       int64  `json:"seq"`
		EntryID   int64  `json:"entry_id"`
		AccountID int64  `json:"account_id"`
		Currency  string `json:"currency"`
		Detail    string `json:"detail"`
	} `json:"break"`
	CheckedAt time.Time `json:"checked_at"`
}

type wireProblem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
}

// walkLedger follows next_cursor from path (which must already hold a "?")
// and returns every item, requiring each page to hold at most limit.
func walkLedger[T any](t *testing.T, f *ledgerFixture, path string, limit int) []T {
	t.Helper()
	var all []T
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "pagination does not end")
		var p wirePage[T]
		q := fmt.Sprintf("%s&limit=%d", path, limit)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		f.get(t, q, f.viewer, http.StatusOK, &p)
		require.LessOrEqual(t, len(p.Items), limit)
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			return all
		}
		require.Len(t, p.Items, limit, "only a full page may have a next page")
		cursor = p.NextCursor
	}
}

func TestLedgerAPI(t *testing.T) {
	t.Parallel()
	f := newLedgerFixture(t)
	e1, e2, e3, rev, e5 := f.entries[0], f.entries[1], f.entries[2], f.entries[3], f.entries[4]

	t.Run("authentication", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/v1/accounts", fmt.Sprintf("/v1/accounts/%d", f.id(lkOpEUR)), "/v1/ledger/entries", "/v1/ledger/verify"} {
			var p wireProblem
			res := f.get(t, path, "", http.StatusUnauthorized, &p)
			require.Equal(t, `Bearer realm="tollgate"`, res.Header.Get("WWW-Authenticate"))
			require.Contains(t, p.Detail, "bearer token")
			f.get(t, path, "tg_nope_nope", http.StatusUnauthorized, nil)
		}
		// Viewers read; verifying the whole ledger needs an operator.
		f.get(t, "/v1/accounts", f.viewer, http.StatusOK, nil)
		f.get(t, "/v1/ledger/entries", f.viewer, http.StatusOK, nil)
		var p wireProblem
		f.get(t, "/v1/ledger/verify", f.viewer, http.StatusForbidden, &p)
		require.Contains(t, p.Detail, "needs operator")
	})

	t.Run("list accounts", func(t *testing.T) {
		t.Parallel()
		var p wirePage[wireAccount]
		f.get(t, "/v1/accounts", f.viewer, http.StatusOK, &p)
		require.Empty(t, p.NextCursor)
		require.Len(t, p.Items, 6)
		byName := map[string]wireAccount{}
		for i, a := range p.Items {
			if i > 0 {
				require.Greater(t, a.ID, p.Items[i-1].ID, "accounts come in ID order")
			}
			byName[a.PartyID+"/"+a.Purpose+"/"+a.Currency] = a
		}
		for n, want := range map[string]struct {
			balance string
			minor   int64
		}{
			accountName(lkOpEUR):   {"-1.00", -100},
			accountName(lkProvEUR): {"1.00", 100},
			accountName(lkOpJPY):   {"-5000", -5000},
			accountName(lkFxJPY):   {"5000", 5000},
			accountName(lkOpKWD):   {"-0.001", -1},
			accountName(lkProvKWD): {"0.001", 1},
		} {
			a, ok := byName[n]
			require.True(t, ok, n)
			require.Equal(t, f.accounts[n], a.ID, n)
			require.Equal(t, want.balance, a.Balance, n)
			require.Equal(t, want.minor, a.BalanceMinor, n)
			require.Nil(t, a.AsOf, "the list carries current balances only")
			require.False(t, a.CreatedAt.IsZero())
		}

		// Every page size walks to the same list.
		for _, limit := range []int{1, 2, 5, 6, 1000} {
			got := walkLedger[wireAccount](t, f, "/v1/accounts?", limit)
			require.Equal(t, p.Items, got, "limit %d", limit)
		}
	})

	t.Run("filter accounts", func(t *testing.T) {
		t.Parallel()
		ids := func(path string) []int64 {
			t.Helper()
			var out []int64
			for _, a := range walkLedger[wireAccount](t, f, path, 2) {
				out = append(out, a.ID)
			}
			return out
		}
		require.Equal(t, []int64{f.id(lkOpEUR), f.id(lkOpJPY), f.id(lkOpKWD)}, ids("/v1/accounts?party_id=op-1"))
		require.Equal(t, []int64{f.id(lkProvEUR), f.id(lkProvKWD)}, ids("/v1/accounts?purpose=provider_receivable"))
		require.Equal(t, []int64{f.id(lkOpJPY), f.id(lkFxJPY)}, ids("/v1/accounts?currency=JPY"))
		require.Equal(t, []int64{f.id(lkOpKWD)}, ids("/v1/accounts?party_id=op-1&currency=KWD&purpose=operator_payable"))
		require.Empty(t, ids("/v1/accounts?party_id=nobody"))
		require.Empty(t, ids("/v1/accounts?currency=USD"))
	})

	t.Run("get account", func(t *testing.T) {
		t.Parallel()
		var a wireAccount
		f.get(t, fmt.Sprintf("/v1/accounts/%d", f.id(lkProvEUR)), f.viewer, http.StatusOK, &a)
		require.Equal(t, "prov-1", a.PartyID)
		require.Equal(t, "provider_receivable", a.Purpose)
		require.Equal(t, "EUR", a.Currency)
		require.Equal(t, "1.00", a.Balance)
		require.Equal(t, int64(100), a.BalanceMinor)
		require.Nil(t, a.AsOf)

		// Snake case and money as strings on the wire, not just after decoding.
		var raw map[string]any
		f.get(t, fmt.Sprintf("/v1/accounts/%d", f.id(lkProvEUR)), f.viewer, http.StatusOK, &raw)
		require.IsType(t, "", raw["balance"])
		require.InDelta(t, 100, raw["balance_minor"], 0)
		require.Contains(t, raw, "party_id")

		for _, tc := range []struct {
			at      time.Time
			balance string
			minor   int64
		}{
			{ledgerT0.Add(-time.Second), "0.00", 0},
			{ledgerT0, "12.34", 1234},
			{ledgerT0.Add(90 * time.Minute), "13.34", 1334},
			{ledgerT0.Add(3 * time.Hour), "1.00", 100},
			{ledgerT0.Add(24 * time.Hour), "1.00", 100},
		} {
			var a wireAccount
			q := url.Values{"as_of": {tc.at.In(time.FixedZone("CET", 3600)).Format(time.RFC3339)}}
			f.get(t, fmt.Sprintf("/v1/accounts/%d?%s", f.id(lkProvEUR), q.Encode()), f.viewer, http.StatusOK, &a)
			require.NotNil(t, a.AsOf, tc.at)
			require.True(t, tc.at.Equal(a.AsOf.Time), "as_of echoes the time asked for")
			require.Equal(t, tc.balance, a.AsOf.Balance, tc.at)
			require.Equal(t, tc.minor, a.AsOf.BalanceMinor, tc.at)
			require.Equal(t, "1.00", a.Balance, "the current balance stays alongside")
		}

		f.get(t, fmt.Sprintf("/v1/accounts/%d", f.id(lkOpJPY)), f.viewer, http.StatusOK, &a)
		require.Equal(t, "-5000", a.Balance)

		var p wireProblem
		f.get(t, "/v1/accounts/999999", f.viewer, http.StatusNotFound, &p)
		require.Contains(t, p.Detail, "account 999999 does not exist")
	})

	t.Run("list entries", func(t *testing.T) {
		t.Parallel()
		var p wirePage[wireEntry]
		f.get(t, "/v1/ledger/entries", f.viewer, http.StatusOK, &p)
		require.Empty(t, p.NextCursor)
		require.Len(t, p.Items, 5)
		for i, e := range p.Items {
			require.Equal(t, f.entries[i].ID, e.ID)
			require.Equal(t, f.entries[i].IdempotencyKey, e.IdempotencyKey)
			require.Equal(t, f.entries[i].ContentHash, e.ContentHash)
			require.Len(t, e.ContentHash, 64)
			require.True(t, f.entries[i].PostedAt.Equal(e.PostedAt))
			require.Len(t, e.Postings, 2)
		}
		first := p.Items[0]
		require.Equal(t, "c1", first.CycleID)
		require.Equal(t, "test e1", first.Description)
		require.True(t, ledgerT0.Equal(first.PostedAt))
		require.Zero(t, first.ReversesID)
		require.ElementsMatch(t, []wirePosting{
			{AccountID: f.id(lkOpEUR), PartyID: "op-1", Purpose: "operator_payable", Currency: "EUR", Amount: "-12.34", AmountMinor: -1234},
			{AccountID: f.id(lkProvEUR), PartyID: "prov-1", Purpose: "provider_receivable", Currency: "EUR", Amount: "12.34", AmountMinor: 1234},
		}, first.Postings)
		require.Equal(t, e1.ID, p.Items[3].ReversesID, "the reversal names what it reverses")
		require.Empty(t, p.Items[4].CycleID)
		require.ElementsMatch(t, []string{"-0.001", "0.001"}, []string{p.Items[4].Postings[0].Amount, p.Items[4].Postings[1].Amount})

		for _, limit := range []int{1, 2, 4, 5} {
			require.Equal(t, p.Items, walkLedger[wireEntry](t, f, "/v1/ledger/entries?", limit), "limit %d", limit)
		}
	})

	t.Run("filter entries", func(t *testing.T) {
		t.Parallel()
		ids := func(path string) []int64 {
			t.Helper()
			var out []int64
			for _, e := range walkLedger[wireEntry](t, f, path, 1) {
				out = append(out, e.ID)
			}
			return out
		}
		at := func(d time.Duration) string { return url.QueryEscape(ledgerT0.Add(d).Format(time.RFC3339Nano)) }
		require.Equal(t, []int64{e1.ID, e2.ID, rev.ID}, ids(fmt.Sprintf("/v1/ledger/entries?account_id=%d", f.id(lkProvEUR))))
		require.Equal(t, []int64{e3.ID}, ids(fmt.Sprintf("/v1/ledger/entries?account_id=%d", f.id(lkFxJPY))))
		// A reversal belongs to the cycle of the entry it reverses.
		require.Equal(t, []int64{e1.ID, e2.ID, rev.ID}, ids("/v1/ledger/entries?cycle_id=c1"))
		require.Empty(t, ids("/v1/ledger/entries?cycle_id=none"))
		// from is inclusive, to exclusive.
		require.Equal(t, []int64{e2.ID, e3.ID}, ids("/v1/ledger/entries?from="+at(time.Hour)+"&to="+at(3*time.Hour)))
		require.Equal(t, []int64{rev.ID, e5.ID}, ids("/v1/ledger/entries?from="+at(3*time.Hour)))
		require.Equal(t, []int64{e1.ID}, ids("/v1/ledger/entries?to="+at(time.Hour)))
		require.Equal(t, []int64{e2.ID}, ids(fmt.Sprintf("/v1/ledger/entries?account_id=%d&cycle_id=c1&from=%s&to=%s", f.id(lkOpEUR), at(time.Minute), at(2*time.Hour))))
		require.Empty(t, ids("/v1/ledger/entries?account_id=999999"))
	})

	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		var accountsPage, entriesPage wirePage[json.RawMessage]
		f.get(t, "/v1/accounts?limit=1", f.viewer, http.StatusOK, &accountsPage)
		f.get(t, "/v1/ledger/entries?limit=1", f.viewer, http.StatusOK, &entriesPage)
		acc := fmt.Sprintf("/v1/accounts/%d", f.id(lkOpEUR))
		for _, tc := range []struct{ path, detail string }{
			{"/v1/accounts/abc", `account id "abc" is not a positive integer ID`},
			{"/v1/accounts/0", "not a positive integer ID"},
			{"/v1/accounts/-3", "not a positive integer ID"},
			{"/v1/accounts/99999999999999999999", "not a positive integer ID"},
			{acc + "?as_of=yesterday", `as_of "yesterday" is not an RFC 3339 time`},
			{acc + "?as_of=2026-03-01", "is not an RFC 3339 time"},
			{acc + "?as_of=2026-03-01T10:00:00+01:00", "URL-encoded as %2B"},
			{acc + "?balance_at=2026-03-01T10:00:00Z", `unknown query parameter "balance_at"`},
			{"/v1/accounts?limit=0", "limit \"0\" must be an integer between 1 and 1000"},
			{"/v1/accounts?limit=1001", "between 1 and 1000"},
			{"/v1/accounts?limit=ten", "between 1 and 1000"},
			{"/v1/accounts?limit=1&limit=2", `"limit" is given 2 times`},
			{"/v1/accounts?cursor=garbage", "cursor \"garbage\" is not one this list returned"},
			{"/v1/accounts?cursor=" + url.QueryEscape(entriesPage.NextCursor), "is not one this list returned (it belongs to another list)"},
			{"/v1/accounts?purpose=savings", `purpose "savings" is not one of`},
			{"/v1/accounts?currency=eur", "upper-case ISO 4217"},
			{"/v1/accounts?currency=XYZ", "not a known ISO 4217 code"},
			{"/v1/accounts?party=op-1", `unknown query parameter "party"`},
			{"/v1/accounts?party_id=%00", "NUL character"},
			{"/v1/accounts?party_id=" + strings.Repeat("x", 201), "longer than 200 bytes"},
			{"/v1/ledger/entries?account_id=x", `account_id "x" is not a positive integer ID`},
			{"/v1/ledger/entries?account_id=0", "not a positive integer ID"},
			{"/v1/ledger/entries?from=monday", `from "monday" is not an RFC 3339 time`},
			{"/v1/ledger/entries?to=2026-13-01T00:00:00Z", "is not an RFC 3339 time"},
			{"/v1/ledger/entries?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "must be before to"},
			{"/v1/ledger/entries?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", "must be before to"},
			{"/v1/ledger/entries?cursor=" + url.QueryEscape(accountsPage.NextCursor), "is not one this list returned (it belongs to another list)"},
			{"/v1/ledger/entries?cursor=" + url.QueryEscape(base64.RawURLEncoding.EncodeToString([]byte("e:1"))), "is not one this list returned"},
			{"/v1/accounts?cursor=" + strings.Repeat("A", 513), "longer than 512 characters"},
			{"/v1/ledger/entries?limit=-1", "between 1 and 1000"},
			{"/v1/ledger/entries?cycle=c1", `unknown query parameter "cycle"`},
			{"/v1/ledger/verify?full=1", `unknown query parameter "full"`},
		} {
			var p wireProblem
			f.get(t, tc.path, f.admin, http.StatusUnprocessableEntity, &p)
			require.Contains(t, p.Detail, tc.detail, tc.path)
			require.Equal(t, "https://tollgate.dev/problems/invalid", p.Type, tc.path)
			require.Equal(t, http.StatusUnprocessableEntity, p.Status)
			require.NotEmpty(t, p.RequestID)
		}
	})

	t.Run("verify", func(t *testing.T) {
		t.Parallel()
		var r wireVerify
		f.get(t, "/v1/ledger/verify", f.admin, http.StatusOK, &r)
		require.True(t, r.OK)
		require.Nil(t, r.Break)
		require.Equal(t, int64(5), r.Entries)
		require.Equal(t, int64(6), r.Accounts)
		require.Len(t, r.Head, 64)
		require.Len(t, r.TrialBalance, 3)
		for i, want := range []struct{ cur, zero string }{{"EUR", "0.00"}, {"JPY", "0"}, {"KWD", "0.000"}} {
			require.Equal(t, want.cur, r.TrialBalance[i].Currency)
			require.Equal(t, want.zero, r.TrialBalance[i].Balance)
			require.Zero(t, r.TrialBalance[i].BalanceMinor)
		}
		require.False(t, r.CheckedAt.IsZero())
	})
}

// Editing a posted row behind the database's back makes verify answer 200
// with ok false and the first break naming the edited entry.
func TestLedgerAPIVerifyReportsBreak(t *testing.T) {
	t.Parallel()
	f := newLedgerFixture(t)
	ctx := t.Context()
	victim := f.entries[1].ID

	var before wireVerify
	f.get(t, "/v1/ledger/verify", f.admin, http.StatusOK, &before)
	require.True(t, before.OK)

	// Only the table owner can edit posted rows, and only with the
	// immutability triggers disabled.
	_, err := f.pool.Exec(ctx, `ALTER TABLE ledger_postings DISABLE TRIGGER USER`)
	require.NoError(t, err)
	tag, err := f.pool.Exec(ctx, `UPDATE ledger_postings SET amount = -amount WHERE entry_id = $1`, victim)
	require.NoError(t, err)
	require.Equal(t, int64(2), tag.RowsAffected())
	_, err = f.pool.Exec(ctx, `ALTER TABLE ledger_postings ENABLE TRIGGER USER`)
	require.NoError(t, err)

	var r wireVerify
	f.get(t, "/v1/ledger/verify", f.admin, http.StatusOK, &r)
	require.False(t, r.OK)
	require.NotNil(t, r.Break)
	require.Equal(t, string(ledger.BreakContent), r.Break.Kind, r.Break.Detail)
	require.Equal(t, victim, r.Break.EntryID)
	require.Equal(t, int64(2), r.Break.Seq)
	require.Contains(t, r.Break.Detail, fmt.Sprintf("entry %d", victim))
	require.Equal(t, int64(1), r.Entries, "links checked before the break")

	// A stored balance edited on its own breaks the account check instead.
	g := newLedgerFixture(t)
	_, err = g.pool.Exec(ctx, `ALTER TABLE ledger_accounts DISABLE TRIGGER USER`)
	require.NoError(t, err)
	_, err = g.pool.Exec(ctx, `UPDATE ledger_accounts SET balance = balance + 1 WHERE id = $1`, g.id(lkProvEUR))
	require.NoError(t, err)
	_, err = g.pool.Exec(ctx, `ALTER TABLE ledger_accounts ENABLE TRIGGER USER`)
	require.NoError(t, err)
	g.get(t, "/v1/ledger/verify", g.admin, http.StatusOK, &r)
	require.False(t, r.OK)
	require.Equal(t, string(ledger.BreakBalance), r.Break.Kind, r.Break.Detail)
	require.Equal(t, g.id(lkProvEUR), r.Break.AccountID)
	require.Equal(t, "EUR", r.Break.Currency)
}

package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/ledger"
)

// ledgerRoutes registers the ledger read API (accounts, entries, verify).
//
// Reads need the viewer role. Verify needs operator: it reads every entry
// and posting on one snapshot, which is too heavy to leave to every viewer.
// Verify answers 200 whether or not the books are intact; "ok" and "break"
// carry the verdict, because a found break is the successful outcome of the
// check, not a failed request. Only a verify that cannot run is an error.
func (s *Server) ledgerRoutes() {
	if s.Ledger == nil && s.Pool != nil {
		// Deps built without a ledger still serve the ledger on their pool.
		s.Ledger = ledger.New(s.Pool)
	}
	s.route(http.MethodGet, "/v1/accounts", RoleViewer, s.listAccounts)
	s.route(http.MethodGet, "/v1/accounts/:id", RoleViewer, s.getAccount)
	s.route(http.MethodGet, "/v1/ledger/entries", RoleViewer, s.listEntries)
	s.route(http.MethodGet, "/v1/ledger/verify", RoleOperator, s.verifyLedger)
}

// Money goes out twice: as a decimal string with exactly the currency's
// minor units ("12.34" EUR, "1234" JPY) and as the integer count of minor
// units (the *_minor fields). The string is the form to display and to parse
// exactly; JSON numbers beyond 2^53 lose precision in many clients.

type accountJSON struct {
	ID           int64        `json:"id"`
	PartyID      string       `json:"party_id"`
	Purpose      string       `json:"purpose"`
	Currency     string       `json:"currency"`
	Balance      string       `json:"balance"`
	BalanceMinor int64        `json:"balance_minor"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
	AsOf         *balanceJSON `json:"as_of,omitempty"`
}

type balanceJSON struct {
	Time         time.Time `json:"time"`
	Balance      string    `json:"balance"`
	BalanceMinor int64     `json:"balance_minor"`
}

type postingJSON struct {
	AccountID   int64  `json:"account_id"`
	PartyID     string `json:"party_id"`
	Purpose     string `json:"purpose"`
	Currency    string `json:"currency"`
	Amount      string `json:"amount"`
	AmountMinor int64  `json:"amount_minor"`
}

// entryJSON omits cycle_id for an entry outside any settlement cycle and
// reverses_id for an entry that is not a reversal.
type entryJSON struct {
	ID             int64         `json:"id"`
	IdempotencyKey string        `json:"idempotency_key"`
	CycleID        string        `json:"cycle_id,omitempty"`
	Description    string        `json:"description"`
	ReversesID     int64         `json:"reverses_id,omitempty"`
	PostedAt       time.Time     `json:"posted_at"`
	ContentHash    string        `json:"content_hash"`
	Postings       []postingJSON `json:"postings"`
}

type trialBalanceJSON struct {
	Currency     string `json:"currency"`
	Balance      string `json:"balance"`
	BalanceMinor int64  `json:"balance_minor"`
}

type breakJSON struct {
	Kind      string `json:"kind"`
	Seq       int64  `json:"seq,omitempty"`
	EntryID   int64  `json:"entry_id,omitempty"`
	AccountID int64  `json:"account_id,omitempty"`
	Currency  string `json:"currency,omitempty"`
	Detail    string `json:"detail"`
}

type verifyJSON struct {
	OK           bool               `json:"ok"`
	Entries      int64              `json:"entries"`
	Accounts     int64              `json:"accounts"`
	Head         string             `json:"head,omitempty"`
	TrialBalance []trialBalanceJSON `json:"trial_balance"`
	Break        *breakJSON         `json:"break"`
	// StaleAccounts hold minor units written before their currency's
	// exponent changed, or are in a code no longer known (issue 11; see the
	// README changelog). Absent when there are none.
	StaleAccounts []staleAccountJSON `json:"stale_accounts,omitempty"`
	CheckedAt     time.Time          `json:"checked_at"`
}

type staleAccountJSON struct {
	AccountID    int64  `json:"account_id"`
	PartyID      string `json:"party_id"`
	Purpose      string `json:"purpose"`
	Currency     string `json:"currency"`
	BalanceMinor int64  `json:"balance_minor"`
	Postings     int64  `json:"postings_before_change"`
	Detail       string `json:"detail"`
}

// minorString renders minor units of c as a decimal string. A currency the
// code table does not know (only raw SQL could store one) has no defined
// exponent, so its string is left empty rather than guessed.
func minorString(units int64, c tollgate.Currency) string {
	if _, err := tollgate.ParseCurrency(string(c)); err != nil {
		return ""
	}
	return tollgate.FormatAmount(tollgate.FromMinorUnits(units, c), c)
}

func toAccountJSON(a ledger.Account) accountJSON {
	return accountJSON{
		ID: a.ID, PartyID: a.Key.PartyID, Purpose: string(a.Key.Purpose), Currency: string(a.Key.Currency),
		Balance: minorString(a.Balance, a.Key.Currency), BalanceMinor: a.Balance,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(),
	}
}

func toEntryJSON(e ledger.Entry) entryJSON {
	out := entryJSON{
		ID: e.ID, IdempotencyKey: e.IdempotencyKey, CycleID: e.CycleID, Description: e.Description,
		ReversesID: e.ReversesID, PostedAt: e.PostedAt.UTC(), ContentHash: e.ContentHash,
		Postings: make([]postingJSON, len(e.Postings)),
	}
	for i, p := range e.Postings {
		out.Postings[i] = postingJSON{
			AccountID: p.AccountID, PartyID: p.Account.PartyID, Purpose: string(p.Account.Purpose),
			Currency: string(p.Account.Currency), Amount: minorString(p.Amount, p.Account.Currency), AmountMinor: p.Amount,
		}
	}
	return out
}

func toVerifyJSON(r ledger.VerifyReport) verifyJSON {
	out := verifyJSON{OK: r.OK, Entries: r.Entries, Accounts: r.Accounts, Head: r.Head,
		TrialBalance: make([]trialBalanceJSON, 0, len(r.TrialBalance)), CheckedAt: r.CheckedAt.UTC()}
	for c, n := range r.TrialBalance {
		out.TrialBalance = append(out.TrialBalance, trialBalanceJSON{Currency: string(c), Balance: minorString(n, c), BalanceMinor: n})
	}
	slices.SortFunc(out.TrialBalance, func(a, b trialBalanceJSON) int { return strings.Compare(a.Currency, b.Currency) })
	if b := r.Break; b != nil {
		out.Break = &breakJSON{Kind: string(b.Kind), Seq: b.Seq, EntryID: b.EntryID, AccountID: b.AccountID,
			Currency: string(b.Currency), Detail: b.Detail}
	}
	for _, a := range r.Stale {
		out.StaleAccounts = append(out.StaleAccounts, staleAccountJSON{AccountID: a.AccountID, PartyID: a.PartyID,
			Purpose: string(a.Purpose), Currency: string(a.Currency), BalanceMinor: a.Balance, Postings: a.Postings, Detail: a.Detail})
	}
	return out
}

// ledgerQuery holds a request's query parameters, read strictly: unknown and
// repeated names are refused, so a misspelt filter is an error rather than a
// silently unfiltered answer.
type ledgerQuery struct {
	v url.Values
}

func parseLedgerQuery(c echo.Context, allowed ...string) (ledgerQuery, error) {
	v := c.QueryParams()
	for name, vals := range v {
		if !slices.Contains(allowed, name) {
			return ledgerQuery{}, tollgate.Errorf(tollgate.CodeInvalid, "unknown query parameter %q; allowed: %s", name, strings.Join(allowed, ", "))
		}
		if len(vals) > 1 {
			return ledgerQuery{}, tollgate.Errorf(tollgate.CodeInvalid, "query parameter %q is given %d times; give it once", name, len(vals))
		}
	}
	return ledgerQuery{v: v}, nil
}

// text returns a parameter as text PostgreSQL can store, at most max bytes.
func (q ledgerQuery) text(name string, max int) (string, error) {
	s := q.v.Get(name)
	if err := checkText(s); err != nil { // textGuard checked already; kept for direct callers
		return "", tollgate.Errorf(tollgate.CodeInvalid, "%s %s", name, err)
	}
	if len(s) > max {
		return "", tollgate.Errorf(tollgate.CodeInvalid, "%s is longer than %d bytes", name, max)
	}
	return s, nil
}

// parseLedgerID parses a positive integer ID; absent is 0.
func parseLedgerID(name, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, tollgate.Errorf(tollgate.CodeInvalid, "%s %q is not a positive integer ID", name, s)
	}
	return n, nil
}

// time parses an RFC 3339 timestamp; absent is the zero time.
func (q ledgerQuery) time(name string) (time.Time, error) {
	s := q.v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		hint := ""
		if strings.Contains(s, " ") {
			hint = " (a '+' in the offset must be sent URL-encoded as %2B)"
		}
		return time.Time{}, tollgate.Errorf(tollgate.CodeInvalid, "%s %q is not an RFC 3339 time like 2024-05-01T12:00:00Z%s", name, s, hint)
	}
	return t, nil
}

// limit parses the page size; absent means the ledger's default.
func (q ledgerQuery) limit() (int, error) {
	s := q.v.Get("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > ledger.MaxLimit {
		return 0, tollgate.Errorf(tollgate.CodeInvalid, "limit %q must be an integer between 1 and %d", s, ledger.MaxLimit)
	}
	return n, nil
}

// cursor returns the opaque cursor as sent: the ledger decodes it with the
// one cursor format, which bounds its length and refuses one that is not its
// own.
func (q ledgerQuery) cursor() string {
	return q.v.Get("cursor")
}

// maxLedgerFilterLen bounds text filters; longer values match nothing stored.
const maxLedgerFilterLen = 200

func (s *Server) listAccounts(c echo.Context) error {
	q, err := parseLedgerQuery(c, "party_id", "purpose", "currency", "cursor", "limit")
	if err != nil {
		return err
	}
	var f ledger.AccountFilter
	if f.PartyID, err = q.text("party_id", maxLedgerFilterLen); err != nil {
		return err
	}
	if p := q.v.Get("purpose"); p != "" {
		f.Purpose = ledger.Purpose(p)
		if !f.Purpose.Valid() {
			return tollgate.Errorf(tollgate.CodeInvalid, "purpose %q is not one of %v", p, ledger.Purposes)
		}
	}
	if cur := q.v.Get("currency"); cur != "" {
		if f.Currency, err = tollgate.ParseCurrency(cur); err != nil {
			return err
		}
	}
	f.Cursor = q.cursor()
	if f.Limit, err = q.limit(); err != nil {
		return err
	}
	accounts, next, err := s.Ledger.ListAccounts(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := list[accountJSON]{Items: make([]accountJSON, len(accounts)), NextCursor: next}
	for i, a := range accounts {
		out.Items[i] = toAccountJSON(a)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getAccount(c echo.Context) error {
	id, err := parseLedgerID("account id", c.Param("id"))
	if err != nil {
		return err
	}
	if id == 0 {
		return tollgate.Errorf(tollgate.CodeInvalid, "account id is missing")
	}
	q, err := parseLedgerQuery(c, "as_of")
	if err != nil {
		return err
	}
	asOf, err := q.time("as_of")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := s.Ledger.GetAccount(ctx, id)
	if err != nil {
		return err
	}
	out := toAccountJSON(a)
	if !asOf.IsZero() {
		b, err := s.Ledger.Balance(ctx, id, &asOf)
		if err != nil {
			return err
		}
		out.AsOf = &balanceJSON{Time: asOf.UTC(), Balance: minorString(b.Amount, b.Currency), BalanceMinor: b.Amount}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listEntries(c echo.Context) error {
	q, err := parseLedgerQuery(c, "account_id", "cycle_id", "from", "to", "cursor", "limit")
	if err != nil {
		return err
	}
	var f ledger.EntryFilter
	if f.AccountID, err = parseLedgerID("account_id", q.v.Get("account_id")); err != nil {
		return err
	}
	if f.CycleID, err = q.text("cycle_id", maxLedgerFilterLen); err != nil {
		return err
	}
	if f.From, err = q.time("from"); err != nil {
		return err
	}
	if f.To, err = q.time("to"); err != nil {
		return err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return tollgate.Errorf(tollgate.CodeInvalid, "from (%s) must be before to (%s); from is inclusive, to exclusive",
			f.From.Format(time.RFC3339Nano), f.To.Format(time.RFC3339Nano))
	}
	f.Cursor = q.cursor()
	if f.Limit, err = q.limit(); err != nil {
		return err
	}
	entries, next, err := s.Ledger.ListEntries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := list[entryJSON]{Items: make([]entryJSON, len(entries)), NextCursor: next}
	for i, e := range entries {
		out.Items[i] = toEntryJSON(e)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) verifyLedger(c echo.Context) error {
	if _, err := parseLedgerQuery(c); err != nil {
		return err
	}
	r, err := s.Ledger.Verify(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toVerifyJSON(r))
}

package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
)

// walk follows next_cursor through path (which must already hold a "?")
// at limit items a page, and returns each item's key (keyOf) in the order
// the pages gave them.
func walk(t *testing.T, f *ingestFixture, path string, limit int, keyOf func(json.RawMessage) string) []string {
	t.Helper()
	var keys []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 100, "%s: paging does not end", path)
		var p wirePage[json.RawMessage]
		q := fmt.Sprintf("%s&limit=%d", path, limit)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		f.call(t, "GET", q, f.admin, "", 200, &p)
		require.LessOrEqual(t, len(p.Items), limit, q)
		for _, it := range p.Items {
			keys = append(keys, keyOf(it))
		}
		if p.NextCursor == "" {
			return keys
		}
		require.Len(t, p.Items, limit, "%s: only a full page may have a next page", q)
		cursor = p.NextCursor
	}
}

// field reads the named top-level fields of an item, joined by "/".
func field(names ...string) func(json.RawMessage) string {
	return func(raw json.RawMessage) string {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			panic(err)
		}
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprint(m[n])
		}
		return strings.Join(parts, "/")
	}
}

// requireOnce checks that walked holds every key of want exactly once.
func requireOnce(t *testing.T, want, walked []string, what string) {
	t.Helper()
	seen := map[string]int{}
	for _, k := range walked {
		seen[k]++
		require.Equal(t, 1, seen[k], "%s: %q is on two pages", what, k)
	}
	require.ElementsMatch(t, want, walked, what)
}

// Walking next_cursor at any page size visits every item of a list exactly
// once, whatever text its keys hold and however its order breaks ties.
func TestListCursorsVisitEveryItemOnce(t *testing.T) {
	f := newIngestFixture(t)

	// Parties: by id.
	parties := []string{"op-1", "pv-1"}
	for _, id := range []string{"a", "pv-0", "pv-10", "pv-2", "z.z", "Z_9"} {
		f.call(t, "POST", "/v1/parties", f.admin, fmt.Sprintf(`{"id":%q,"kind":"provider","name":"P","currency":"EUR"}`, id), 201, nil)
		parties = append(parties, id)
	}
	// Transactions: keyed by (provider, external ID); external IDs may hold
	// any text but NUL, the old cursor's separator.
	var txs []string
	var rows []string
	for _, ext := range []string{"a", "a b", "a/b", "a:b", "a|b", "日本🚀", "%00", `"q"`, "a\tb", strings.Repeat("x", 128)} {
		rows = append(rows, txRow(ext, "charge", "1.00"))
		txs = append(txs, "pv-1/"+ext)
	}
	var res tollgate.IngestResult
	f.call(t, "POST", "/v1/transactions", f.ingestPV, txBody(rows...), 200, &res)
	require.Equal(t, len(rows), res.Accepted, "%+v", res.Rejected)
	// FX rates: newest first, with ties on as_of broken by pair and source.
	var rates []string
	for _, r := range []struct{ base, asOf, source string }{
		{"USD", "2026-03-01T00:00:00Z", "ecb"}, {"USD", "2026-03-01T00:00:00Z", "fed"}, {"GBP", "2026-03-01T00:00:00Z", "ecb"},
		{"JPY", "2026-03-01T00:00:00Z", "ecb"}, {"USD", "2026-03-01T00:00:00.000001Z", "ecb"}, {"USD", "2026-02-28T23:59:59.999999Z", "ecb"},
		{"CHF", "2026-01-15T12:00:00Z", "a b"},
	} {
		f.call(t, "POST", "/v1/fx-rates", f.admin, fmt.Sprintf(`{"base":%q,"quote":"EUR","rate":"1.5","as_of":%q,"source":%q}`, r.base, r.asOf, r.source), 201, nil)
		rates = append(rates, r.base+"/EUR/"+r.source+"@"+r.asOf)
	}
	// Dead letters: newest first.
	var dead []string
	for i := range 5 {
		f.call(t, "POST", "/v1/transactions", f.admin, txBody(txRow(fmt.Sprint("bad-", i), "charge", "1.001")), 200, nil)
	}
	// API keys: by id; the fixture made two.
	for i := range 3 {
		f.call(t, "POST", "/v1/api-keys", f.admin, fmt.Sprintf(`{"name":"k%d","role":"viewer"}`, i), 201, nil)
	}

	for _, limit := range []int{1, 2, 3, 1000} {
		requireOnce(t, parties, walk(t, f, "/v1/parties?", limit, field("id")), "parties")
		requireOnce(t, txs, walk(t, f, "/v1/transactions?", limit, field("provider_id", "external_id")), "transactions")
		requireOnce(t, txs, walk(t, f, "/v1/transactions?contract_id=c-1", limit, field("provider_id", "external_id")), "transactions of c-1")

		walkedRates := walk(t, f, "/v1/fx-rates?quote=EUR", limit, func(raw json.RawMessage) string {
			var r tollgate.FXRate
			require.NoError(t, json.Unmarshal(raw, &r))
			return r.Base + "/" + r.Quote + "/" + r.Source + "@" + r.AsOf.UTC().Format("2006-01-02T15:04:05.999999Z")
		})
		requireOnce(t, rates, walkedRates, "fx rates")

		walkedDead := walk(t, f, "/v1/dead-letters?reason="+tollgate.ReasonInvalid, limit, field("id"))
		require.Len(t, walkedDead, 5)
		if dead == nil {
			dead = walkedDead
		}
		requireOnce(t, dead, walkedDead, "dead letters")

		keys := walk(t, f, "/v1/api-keys?", limit, field("id"))
		require.Len(t, keys, 5)
		require.True(t, slices.IsSorted(keys), "keys by id: %v", keys)
	}

	// The audit trail comes newest first: IDs strictly fall across pages.
	var all wirePage[json.RawMessage]
	f.call(t, "GET", "/v1/audit?limit=1000", f.admin, "", 200, &all)
	var everyID []string
	for _, it := range all.Items {
		everyID = append(everyID, field("id")(it))
	}
	require.Greater(t, len(everyID), 10)
	for _, limit := range []int{1, 4} {
		walked := walk(t, f, "/v1/audit?", limit, field("id"))
		require.Equal(t, everyID, walked, "the same rows in the same order at page size %d", limit)
	}
}

// A cursor is bound to the list that returned it: one from another list,
// one in a format from before, or one cut short is a 422 problem, never a
// 500 and never a page of the wrong list.
func TestListCursorsRefusedElsewhere(t *testing.T) {
	f := newIngestFixture(t)
	f.call(t, "POST", "/v1/parties", f.admin, `{"id":"pv-2","kind":"provider","name":"P","currency":"EUR"}`, 201, nil)
	f.call(t, "POST", "/v1/transactions", f.ingestPV, txBody(txRow("t1", "charge", "1.00"), txRow("t2", "charge", "1.00")), 200, nil)
	for _, as := range []string{"2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"} {
		f.call(t, "POST", "/v1/fx-rates", f.admin, `{"base":"USD","quote":"EUR","rate":"1.5","as_of":"`+as+`","source":"ecb"}`, 201, nil)
	}
	f.call(t, "POST", "/v1/transactions", f.admin, txBody(txRow("d1", "charge", "1.001"), txRow("d2", "charge", "1.002")), 200, nil)

	lists := []string{"/v1/parties", "/v1/transactions", "/v1/fx-rates", "/v1/dead-letters", "/v1/api-keys", "/v1/audit"}
	cursors := map[string]string{}
	for _, l := range lists {
		var p wirePage[json.RawMessage]
		f.call(t, "GET", l+"?limit=1", f.admin, "", 200, &p)
		require.NotEmpty(t, p.NextCursor, l)
		cursors[l] = p.NextCursor
		f.call(t, "GET", l+"?limit=1&cursor="+url.QueryEscape(p.NextCursor), f.admin, "", 200, nil)
	}

	refused := func(path, cursor string) {
		t.Helper()
		var p wireProblem
		f.call(t, "GET", path+"?cursor="+url.QueryEscape(cursor), f.admin, "", 422, &p)
		require.Equal(t, "https://tollgate.dev/problems/invalid", p.Type, path)
		require.Contains(t, p.Detail, "is not one this list returned", "%s %q", path, cursor)
	}
	targets := append(slices.Clone(lists), "/v1/contracts", "/v1/cycles")
	for _, to := range targets {
		for from, c := range cursors {
			if from != to {
				refused(to, c)
			}
		}
		// Cut short, as by a client that bounds its query strings.
		if c, ok := cursors[to]; ok {
			refused(to, c[:len(c)-1])
		}
		refused(to, strings.Repeat("A", tollgate.MaxCursorLen+1))
	}

	// Cursors as lists returned them before they were opaque.
	old := base64.RawURLEncoding.EncodeToString
	for path, c := range map[string]string{
		"/v1/parties":      "op-1",
		"/v1/contracts":    "c-1",
		"/v1/cycles":       "c-1-20260401",
		"/v1/api-keys":     "aaaaaaaa",
		"/v1/audit":        "3",
		"/v1/dead-letters": "1",
		"/v1/transactions": old([]byte("pv-1\x00t1")),
		"/v1/fx-rates":     "1",
	} {
		refused(path, c)
	}
}

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/ledger"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/workflows"
)

// TestRobustness walks every route the router lists, as an admin, and sends
// it hostile input: odd path parameters, bad query parameters, malformed and
// mistyped bodies, wrong content types, IDs that exist and IDs that do not.
// Whatever comes in, the answer must be below 500 and every 4xx an
// application/problem+json document with a detail. A panic shows up as a 500
// (the recoverer turns it into one) and is named in the report.
//
// The server has no Temporal client. Routes that need Temporal (listed in
// robustTemporalRoutes) may answer 503 for that reason, but never 500.
//
// Failures are grouped by route, status and cause so one bug is reported
// once, with an example request and how many requests hit it.
func TestRobustness(t *testing.T) {
	t.Parallel()
	rb := newRobustFixture(t)
	doc, err := api.OpenAPI()
	require.NoError(t, err)

	routes := routesOf(rb.srv)
	require.Greater(t, len(routes), 30, "the router lists the API's routes")
	registered := map[string]bool{}
	for _, r := range routes {
		registered[r.Method+" "+r.Path] = true
	}
	for k := range robustTemporalRoutes {
		require.True(t, registered[k], "robustTemporalRoutes names %s, which is no longer a route", k)
	}

	for _, r := range routes {
		route := r.Method + " " + r.Path
		op := docOperation(doc, r.Method, r.Path)
		for _, req := range rb.battery(r.Method, r.Path, op) {
			rb.check(t, route, req)
		}
	}
	rb.report(t)
}

// robustTemporalRoutes need a Temporal client; without one they may answer
// 503 (unavailable), never 500.
var robustTemporalRoutes = map[string]bool{
	"GET /readyz":                             true,
	"POST /v1/diagnostics/roundtrip":          true,
	"POST /v1/cycles":                         true,
	"POST /v1/cycles/:id/approve":             true,
	"POST /v1/cycles/:id/reject":              true,
	"POST /v1/cycles/:id/retry":               true,
	"POST /v1/cycles/:id/skip":                true,
	"POST /v1/cycles/:id/cancel":              true,
	"PUT /v1/contracts/:id/schedule":          true,
	"GET /v1/contracts/:id/schedule":          true,
	"POST /v1/contracts/:id/schedule/trigger": true,
}

var robustNow = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

type robustFixture struct {
	srv    *api.Server
	url    string
	admin  string
	secret string // pv-1's signing secret
	logs   *lockedBuffer
	client *http.Client
	// existing maps the path segment before a parameter ("parties",
	// "terms", ...) to a value that names a stored object.
	existing map[string]string

	requests int
	statuses map[int]int
	failures map[string]*robustFailure
	order    []string
}

type robustReq struct {
	label       string
	method      string
	path        string // already escaped
	query       string // raw query, already escaped
	body        []byte
	hasBody     bool
	contentType string
	header      map[string]string
}

type robustFailure struct {
	count   int
	example robustReq
	status  int
	ctype   string
	resp    string
	logs    string
}

func newRobustFixture(t *testing.T) *robustFixture {
	t.Helper()
	ctx := t.Context()
	pool := testdb.Pool(t)
	clock := func() time.Time { return robustNow }
	st := store.New(pool, clock)
	logs := &lockedBuffer{}
	led := ledger.New(pool, ledger.WithClock(clock))
	srv := api.New(api.Deps{Pool: pool, Store: st, Ledger: led, Clock: clock,
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		RateLimit: api.RateLimit{PerSecond: -1}}) // thousands of requests on a frozen clock
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	rb := &robustFixture{srv: srv, url: hs.URL, logs: logs, existing: map[string]string{},
		statuses: map[int]int{}, failures: map[string]*robustFailure{},
		client: &http.Client{Timeout: 60 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
	rb.admin, _, _ = api.GenerateKey()
	require.NoError(t, api.EnsureBootstrapKey(ctx, pool, rb.admin))

	seed := func(method, path, body string, want int) (http.Header, map[string]any) {
		t.Helper()
		status, hdr, b := rb.send(t, robustReq{method: method, path: path, body: []byte(body), hasBody: body != "",
			contentType: "application/json"})
		require.Equal(t, want, status, "seed %s %s: %s", method, path, b)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return hdr, out
	}
	seed("POST", "/v1/parties", `{"id":"op-1","kind":"operator","name":"Op","currency":"EUR"}`, 201)
	_, p := seed("POST", "/v1/parties", `{"id":"pv-1","kind":"provider","name":"Pv","currency":"EUR"}`, 201)
	rb.secret = p["signing_secret"].(string)
	seed("POST", "/v1/contracts", robustContract("c-1"), 201)
	seed("POST", "/v1/contracts/c-1/terms", robustTerms, 201) // version 2, pending
	seed("POST", "/v1/transactions", `{"transactions":[`+robustRow("seed-ok", "12.34")+`,`+robustRow("seed-bad", "abc")+`]}`, 200)
	seed("POST", "/v1/fx-rates", robustFXRate, 201)

	push := []byte(`{"transactions":[` + robustRow("seed-push", "1.00") + `]}`)
	status, hdr, b := rb.send(t, robustReq{method: "POST", path: "/v1/providers/pv-1/events", body: push, hasBody: true,
		contentType: "application/json", header: map[string]string{tollgate.SignatureHeader: tollgate.Sign(rb.secret, robustNow, push)}})
	require.Equal(t, 200, status, "seed push: %s", b)
	archiveID := hdr.Get("Tollgate-Archive-Id")
	require.NotEmpty(t, archiveID)

	dead, _, err := st.ListDeadLetters(ctx, store.DeadLetterFilter{})
	require.NoError(t, err)
	require.NotEmpty(t, dead, "the bad seed row is a dead letter")

	cycleID := workflows.CycleID("c-1", time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC))
	require.NoError(t, st.RecordCycle(ctx, tollgate.CycleRecord{CycleID: cycleID, ContractID: "c-1",
		PeriodEnd: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Status: workflows.StatusAwaitingApproval, InitiatedBy: "seed"}))

	_, err = led.Post(ctx, ledgerMove("rb-1", cycleID, lkOpEUR, lkProvEUR, 1234))
	require.NoError(t, err)
	acct, err := led.AccountByKey(ctx, lkOpEUR)
	require.NoError(t, err)

	spare := insertKey(t, pool, "spare", api.RoleViewer, "")
	rb.existing = map[string]string{
		"parties":      "pv-1",
		"contracts":    "c-1",
		"terms":        "2",
		"providers":    "pv-1",
		"push-archive": archiveID,
		"dead-letters": strconv.FormatInt(dead[0].ID, 10),
		"cycles":       url.PathEscape(cycleID),
		"accounts":     strconv.FormatInt(acct.ID, 10),
		"api-keys":     strings.Split(spare, "_")[1],
	}
	return rb
}

func robustContract(id string) string {
	return `{"id":"` + id + `","operator_id":"op-1","provider_id":"pv-1","currency":"EUR","timezone":"UTC",
	 "schedule":{"every":"24h","cron":""},"grace_period":"0s",
	 "terms":` + robustTerms + `,
	 "approval":{"auto_approve_limit":"1000.00","approvals_required":2,"approval_timeout":"48h"},
	 "payout":{"adapter":"simulated","options":{"k":"v"}}}`
}

const robustTerms = `{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":"100000.00","rate":"0.10"},{"up_to":null,"rate":"0.08"}],
	"fee_per_charge":"0.01","minimum_guarantee":"500.00","cap":"9000.00","carry_negative":true}`

const robustFXRate = `{"base":"USD","quote":"EUR","rate":"0.9","as_of":"2026-03-01T08:00:00Z","source":"ecb"}`

func robustRow(ext, amount string) string {
	return `{"provider_id":"pv-1","operator_id":"op-1","external_id":"` + ext + `","kind":"charge","amount":"` + amount +
		`","currency":"EUR","occurred_at":"2026-03-15T00:00:00Z","metadata":{"k":"v"}}`
}

// robustBodies are realistic bodies for the routes that take one, so the
// mutations below reach past the first check. A route not listed gets a
// body built from its OpenAPI schema.
var robustBodies = map[string]string{
	"POST /v1/parties":                  `{"id":"rb-party","kind":"provider","name":"Rb","currency":"EUR","webhook_url":"https://example.com/hook"}`,
	"POST /v1/contracts":                robustContract("rb-c"),
	"POST /v1/contracts/:id/terms":      robustTerms,
	"POST /v1/transactions":             `{"transactions":[` + robustRow("rb-row", "12.34") + `]}`,
	"POST /v1/providers/:id/events":     `{"transactions":[` + robustRow("rb-push", "12.34") + `]}`,
	"POST /v1/fx-rates":                 robustFXRate,
	"POST /v1/api-keys":                 `{"name":"rb","role":"ingest","provider_id":"pv-1","expires_at":"2027-01-01T00:00:00Z"}`,
	"POST /v1/cycles":                   `{"contract_id":"c-1","period_end":"2026-03-31T00:00:00Z"}`,
	"POST /v1/cycles/:id/approve":       `{"comment":"fine"}`,
	"POST /v1/cycles/:id/reject":        `{"reason":"wrong","comment":"no"}`,
	"POST /v1/cycles/:id/retry":         `{"comment":"again"}`,
	"POST /v1/cycles/:id/skip":          `{"comment":"skip"}`,
	"POST /v1/cycles/:id/cancel":        `{"comment":"stop"}`,
	"PUT /v1/contracts/:id/schedule":    `{"paused":true,"note":"hold"}`,
	"POST /v1/dead-letters/:id/replay":  `{"transaction":` + robustRow("rb-replay", "12.34") + `}`,
	"POST /v1/dead-letters/:id/discard": `{"reason":"duplicate"}`,
	"POST /v1/diagnostics/roundtrip":    `{"message":"hello"}`,
}

// docOperation finds the route's operation in the OpenAPI document.
func docOperation(doc *openapi3.T, method, echoPath string) *openapi3.Operation {
	for path, item := range doc.Paths.Map() {
		if api.EchoPath(path) == echoPath {
			return item.GetOperation(method)
		}
	}
	return nil
}

func (rb *robustFixture) battery(method, path string, op *openapi3.Operation) []robustReq {
	route := method + " " + path
	base, hasBodySchema := robustBodies[route], false
	if op != nil && op.RequestBody != nil && op.RequestBody.Value != nil {
		hasBodySchema = true
		if base == "" {
			if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				raw, _ := json.Marshal(sampleOf(mt.Schema.Value, 0))
				base = string(raw)
			}
		}
	}
	takesBody := base != "" || hasBodySchema
	if base == "" {
		base = "{}"
	}
	params := routeParam.FindAllString(path, -1)
	existing := map[string]string{}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			v, ok := rb.existing[segs[i-1]]
			if !ok {
				v = "1"
			}
			existing[s] = v
		}
	}
	fill := func(over map[string]string) string {
		return routeParam.ReplaceAllStringFunc(path, func(p string) string {
			if v, ok := over[p]; ok {
				return v
			}
			return existing[p]
		})
	}
	defaultBody := func() ([]byte, bool) {
		if method == http.MethodGet || method == http.MethodDelete {
			return nil, false
		}
		return []byte(base), true
	}

	var out []robustReq
	add := func(label, p, q string, body []byte, hasBody bool, ctype string) {
		if hasBody && ctype == "" {
			ctype = "application/json"
		}
		out = append(out, robustReq{label: label, method: method, path: p, query: q, body: body, hasBody: hasBody, contentType: ctype})
	}

	// The baseline: everything valid, existing IDs.
	b, hb := defaultBody()
	add("baseline", fill(nil), "", b, hb, "")

	// Path parameters, one at a time.
	for _, p := range params {
		values := append([]string{}, robustPathValues...)
		values = append(values, "does-not-exist", "999999999")
		for _, v := range values {
			b, hb := defaultBody()
			add("path "+p, fill(map[string]string{p: v}), "", b, hb, "")
		}
	}

	// Query parameters: the common ones on every route, and hostile
	// values for each parameter the document declares.
	queries := append([]string{}, robustQueries...)
	if op != nil {
		for _, pr := range op.Parameters {
			if pr.Value == nil || pr.Value.In != "query" {
				continue
			}
			n := url.QueryEscape(pr.Value.Name)
			for _, v := range robustQueryValues {
				queries = append(queries, n+"="+v)
			}
			queries = append(queries, n+"=1&"+n+"=2", n+"=", n)
		}
	}
	for _, q := range queries {
		b, hb := defaultBody()
		add("query", fill(nil), q, b, hb, "")
	}

	// Bodies. Routes without one still get a few, which they must ignore
	// or refuse cleanly.
	whole := robustWholeBodies(base)
	if !takesBody {
		whole = whole[:8]
	}
	for _, wb := range whole {
		add("body "+wb.label, fill(nil), "", wb.body, wb.hasBody, wb.ctype)
	}
	if takesBody {
		for _, ct := range robustContentTypes {
			add("content-type", fill(nil), "", []byte(base), true, ct)
		}
		for _, mb := range mutateBody(base) {
			add("field "+mb.label, fill(nil), "", mb.body, true, "")
		}
		// Hostile bodies against an ID that does not exist, too.
		for _, p := range params {
			add("body on missing "+p, fill(map[string]string{p: "does-not-exist"}), "", []byte(base), true, "")
			add("null on missing "+p, fill(map[string]string{p: "does-not-exist"}), "", []byte("null"), true, "")
		}
	}

	// Provider pushes are authenticated by signature: sign every body with
	// pv-1's secret so the body checks behind the signature are reached.
	if route == "POST /v1/providers/:id/events" {
		for i := range out {
			out[i].header = map[string]string{tollgate.SignatureHeader: tollgate.Sign(rb.secret, robustNow, out[i].body)}
		}
		// And the signature itself, hostile.
		for _, sig := range []string{"", "garbage", "t=,v1=", "t=abc,v1=00", "t=99999999999999999999,v1=00",
			"t=-1,v1=zz", "t=" + strconv.FormatInt(robustNow.Unix(), 10) + ",v1=" + strings.Repeat("a", 100000), "v1=00,t=1,t=2"} {
			out = append(out, robustReq{label: "signature", method: method, path: fill(nil), body: []byte(base), hasBody: true,
				contentType: "application/json", header: map[string]string{tollgate.SignatureHeader: sig}})
		}
	}
	return out
}

// robustPathValues are escaped as they go on the wire.
var robustPathValues = []string{
	"", "%20", "0", "-1", "1.5", "1e3", "0x10", "+1",
	"9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999999999",
	"abc", strings.Repeat("a", 100), strings.Repeat("9", 300), strings.Repeat("x", 16<<10),
	url.PathEscape("ünïcödé-日本-🚀"), url.PathEscape("\u202egnp.exe"), url.PathEscape("' OR '1'='1"),
	url.PathEscape("1; DROP TABLE parties;--"), url.PathEscape(`"quoted"`), url.PathEscape("a b"),
	"%00", "a%00b", "%ff%fe", "%c0%af", "%ed%a0%80", "%2F", "..", "%2e%2e", "%25", "%0a", "%09",
	url.PathEscape("c-1 "), url.PathEscape("{}"), url.PathEscape("null"),
}

var robustQueryValues = []string{
	"abc", "-1", "0", "1.5", "1e3", "99999999999999999999", "9223372036854775808", "%00", "a%00b", "%ff%fe",
	"%ed%a0%80", url.QueryEscape("' OR '1'='1"), url.QueryEscape("日本🚀"), strings.Repeat("x", 16<<10),
	"2026-13-45T99:99:99Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", url.QueryEscape("2026-01-01T00:00:00+01:00"),
	"2026-01-01T00:00:00+01:00", // the '+' arrives as a space
	"-0001-01-01T00:00:00Z", "1-01-01T00:00:00Z", "2026-01-01",
}

var robustQueries = []string{
	"limit=abc", "limit=-1", "limit=0", "limit=1001", "limit=1000", "limit=1", "limit=99999999999999999999",
	"limit=9223372036854775808", "limit=1e3", "limit=1.5", "limit=", "limit=%00", "limit=1&limit=2", "limit=+5", "limit=%20",
	"cursor=garbage", "cursor=%00", "cursor=%ff%fe", "cursor=" + strings.Repeat("z", 16<<10), "cursor=" + url.QueryEscape("' OR '1'='1"),
	"cursor=-1", "cursor=0", "cursor=9223372036854775808", "cursor=" + url.QueryEscape("MTIz"), "cursor=" + url.QueryEscape("eyJ4IjoxfQ=="),
	"cursor=" + url.QueryEscape("2026-01-01T00:00:00Z|1"), "cursor=a&cursor=b", "cursor=%ed%a0%80",
	"from=yesterday", "from=2026-13-01T00:00:00Z", "from=2026-01-01+00:00:00", "from=0000-01-01T00:00:00Z",
	"from=9999-12-31T23:59:59Z", "to=0001-01-01T00:00:00Z", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
	"from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from=%00", "to=" + strings.Repeat("9", 5000),
	"from=0000-01-01T00:00:00Z&to=9999-12-31T23:59:59.999999999Z",
	"as_of=garbage", "as_of=0000-01-01T00:00:00Z", "as_of=9999-12-31T23:59:59Z", "as_of=2026-01-01T00:00:00.123456789123Z",
	"as_of=-0001-01-01T00:00:00Z", "as_of=a&as_of=b",
	"account_id=abc", "account_id=-1", "account_id=9223372036854775808", "account_id=1&account_id=2",
	"unknown=1", "%zz=1", "=x", "&&&", "a=%00", "kind=%00", "status=%ff", "purpose=%00", "currency=%00", "currency=" + strings.Repeat("E", 1000),
	"object=" + url.QueryEscape("/"), "object=" + url.QueryEscape("a/%00"), "object_id=x",
}

var robustContentTypes = []string{
	"text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
	"garbage", "application/json;;;", "application/json; charset=utf-16", "application/problem+json", "*/*",
	"application/", "/json",
}

type wholeBody struct {
	label   string
	body    []byte
	hasBody bool
	ctype   string
}

func robustWholeBodies(base string) []wholeBody {
	deepArr := strings.Repeat("[", 100001) + strings.Repeat("]", 100001)
	deepObj := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	var baseTree any
	_ = json.Unmarshal([]byte(base), &baseTree)
	return []wholeBody{
		// The first eight go to routes that take no body as well.
		{"none", nil, false, ""},
		{"empty with content type", []byte{}, true, "application/json"},
		{"null", []byte("null"), true, ""},
		{"garbage", []byte("\x00\x01\x02not json"), true, ""},
		{"huge garbage", bytes.Repeat([]byte("x"), 1<<20), true, "text/plain"},
		{"deep array", []byte(deepArr), true, ""},
		{"invalid utf-8", []byte("{\"a\":\"\xff\xfe\"}"), true, ""},
		{"over the body limit", bytes.Repeat([]byte(" "), 17<<20), true, ""},
		{"[]", []byte("[]"), true, ""},
		{`"x"`, []byte(`"x"`), true, ""},
		{"123", []byte("123"), true, ""},
		{"true", []byte("true"), true, ""},
		{"-1e999", []byte("-1e999"), true, ""},
		{"{", []byte("{"), true, ""},
		{"}", []byte("}"), true, ""},
		{"{}", []byte("{}"), true, ""},
		{"{}{}", []byte("{}{}"), true, ""},
		{"trailing garbage", []byte(base + " x"), true, ""},
		{"two values", []byte(base + base), true, ""},
		{"deep object", []byte(deepObj), true, ""},
		{"unknown field", []byte(`{"zzz_unknown":1}`), true, ""},
		{"BOM", append([]byte("\xef\xbb\xbf"), base...), true, ""},
		{"base as array", []byte("[" + base + "]"), true, ""},
		{"duplicate keys", []byte(strings.Replace(base, "{", `{"zz":1,"zz":2,`, 1)), true, ""},
		{"invalid utf-8 throughout", []byte(strings.ReplaceAll(base, `":"`, "\":\"\xff\xc0")), true, ""},
		{"NUL in every string", []byte(strings.ReplaceAll(base, `":"`, `":"\u0000`)), true, ""},
		{"lone surrogate in every string", []byte(strings.ReplaceAll(base, `":"`, `":"\ud800`)), true, ""},
		{"every field wrong type", mustJSON(mapLeaves(baseTree, func(v any) any { return wrongType(v) })), true, ""},
		{"every string 100 KB", mustJSON(mapLeaves(baseTree, func(v any) any {
			if _, ok := v.(string); ok {
				return strings.Repeat("9", 100<<10)
			}
			return v
		})), true, ""},
		{"every field null", mustJSON(mapLeaves(baseTree, func(any) any { return nil })), true, ""},
		{"1 MB string", []byte(`"` + strings.Repeat("a", 1<<20) + `"`), true, ""},
		{"base, no content type", []byte(base), true, "-"},
	}
}

type mutatedBody struct {
	label string
	body  []byte
}

// robustStrings replace string fields (and money, time and duration
// fields, which are strings on the wire).
var robustStrings = []any{
	"", " ", strings.Repeat("a", 100<<10), "a\x00b", json.RawMessage(`"\ud800"`), json.RawMessage("\"\xff\xfe\""), "ünïcödé-日本-🚀", "\u202e", "' OR '1'='1", "<script>",
	"-1", "-0.01", "0", "-0", "1e400", "1e-400", "NaN", "Infinity", "-Infinity", "0x10", "1,00", "1_000", " 1.00 ", "+1", ".5", "5.",
	"99999999999999999999999999999999999999.99", "0.000000000000000000000000000001", "1" + strings.Repeat("0", 400),
	"1." + strings.Repeat("1", 400), strings.Repeat("9", 5000), "9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-02-30T00:00:00Z", "-0001-01-01T00:00:00Z", "2026-01-01", "24:00",
	"-1h", "999999999999999h", "1ns", "-9223372036854775808ns", "1h1h1h", "P1D",
	"* * * * *", "60 * * * *", "@every -1s", "CRON_TZ=Mars/Olympus * * * * *",
	"Mars/Olympus", "../../etc/passwd", "ftp://x", "http://" + strings.Repeat("a", 5000), "javascript:alert(1)",
}

// robustNumbers replace fields of any type, money fields in particular.
var robustNumbers = []any{
	json.Number("12.34"), json.Number("-1"), json.Number("0"), json.Number("1e308"), json.Number("1e400"),
	json.Number("-1e400"), json.Number("99999999999999999999"), json.Number("9223372036854775808"), json.Number("-0"),
	json.Number("0.1"), json.Number("1" + strings.Repeat("0", 400)),
}

var robustOthers = []any{true, false, nil, map[string]any{}, []any{}, []any{nil}, map[string]any{"x": []any{1}}, []any{"x", 1}}

// mutateBody returns the base body with one value at a time replaced by a
// hostile one, at every position (objects and arrays included).
func mutateBody(base string) []mutatedBody {
	dec := json.NewDecoder(strings.NewReader(base))
	dec.UseNumber()
	var tree any
	if dec.Decode(&tree) != nil {
		return nil
	}
	var out []mutatedBody
	var walk func(ptr string, v any, set func(any) any)
	walk = func(ptr string, v any, set func(any) any) {
		if ptr != "" {
			repl := append(append([]any{}, robustNumbers...), robustOthers...)
			if _, ok := v.(string); ok {
				repl = append(append([]any{}, robustStrings...), repl...)
			} else {
				repl = append(repl, "x", robustStrings[2])
			}
			for _, r := range repl {
				out = append(out, mutatedBody{label: ptr + " = " + short(fmt.Sprint(r)), body: mustJSON(set(r))})
			}
		}
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(ptr+"/"+k, x[k], func(r any) any {
					old := x[k]
					x[k] = r
					cp := deepCopy(tree)
					x[k] = old
					return cp
				})
			}
		case []any:
			for i := range x {
				walk(ptr+"/"+strconv.Itoa(i), x[i], func(r any) any {
					old := x[i]
					x[i] = r
					cp := deepCopy(tree)
					x[i] = old
					return cp
				})
			}
		}
	}
	walk("", tree, nil)
	return out
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

func mapLeaves(v any, f func(any) any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = mapLeaves(e, f)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = mapLeaves(e, f)
		}
		return s
	}
	return f(v)
}

func wrongType(v any) any {
	switch v.(type) {
	case string:
		return 12.34
	case bool:
		return "true"
	case nil:
		return []any{1}
	}
	return "x"
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sampleOf builds a plausible value for a schema: the body of a route added
// without an entry in robustBodies.
func sampleOf(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 8 {
		return nil
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	for _, sub := range s.AllOf {
		if sub.Value != nil {
			if m, ok := sampleOf(sub.Value, depth+1).(map[string]any); ok {
				return m
			}
		}
	}
	switch {
	case s.Type.Is("string"):
		if s.Format == "date-time" {
			return "2026-03-01T00:00:00Z"
		}
		return "x"
	case s.Type.Is("integer"), s.Type.Is("number"):
		return 1
	case s.Type.Is("boolean"):
		return true
	case s.Type.Is("array"):
		if s.Items != nil {
			return []any{sampleOf(s.Items.Value, depth+1)}
		}
		return []any{}
	}
	m := map[string]any{}
	for name, p := range s.Properties {
		if p.Value != nil {
			m[name] = sampleOf(p.Value, depth+1)
		}
	}
	return m
}

func short(s string) string {
	s = strconv.QuoteToASCII(s)
	if len(s) > 60 {
		return s[:40] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

func (rb *robustFixture) send(t *testing.T, r robustReq) (int, http.Header, []byte) {
	t.Helper()
	target := rb.url + r.path
	if r.query != "" {
		target += "?" + r.query
	}
	var body io.Reader
	if r.hasBody {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), r.method, target, body)
	require.NoError(t, err, "building %s %s", r.method, short(target))
	req.Header.Set("Authorization", "Bearer "+rb.admin)
	if r.contentType != "" && r.contentType != "-" {
		req.Header.Set("Content-Type", r.contentType)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := rb.client.Do(req)
	require.NoError(t, err, "%s %s", r.method, short(target))
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// check sends one request and records what is wrong with its answer.
func (rb *robustFixture) check(t *testing.T, route string, r robustReq) {
	t.Helper()
	before := len(rb.logs.String())
	status, hdr, body := rb.send(t, r)
	logs := rb.logs.String()[before:]
	rb.requests++
	rb.statuses[status]++

	var problems []string
	ctype := hdr.Get("Content-Type")
	var p api.Problem
	isProblem := ctype == "application/problem+json" && json.Unmarshal(body, &p) == nil
	switch {
	case status == http.StatusServiceUnavailable && robustTemporalRoutes[route]:
		// Allowed: no Temporal client. Still a proper problem below.
	case status >= 500:
		problems = append(problems, fmt.Sprintf("status %d", status))
	}
	if strings.Contains(logs, "panic in handler") {
		problems = append(problems, "panic")
	}
	if status >= 400 {
		switch {
		case !isProblem:
			problems = append(problems, fmt.Sprintf("%d without a problem+json body (Content-Type %q)", status, ctype))
		case p.Detail == "":
			problems = append(problems, fmt.Sprintf("%d problem without a detail", status))
		case p.Status != status:
			problems = append(problems, fmt.Sprintf("problem status %d on a %d answer", p.Status, status))
		}
	}
	if len(problems) == 0 {
		return
	}
	cause := p.Detail
	if status >= 500 {
		cause = logCause(logs)
	}
	key := route + " → " + strings.Join(problems, ", ") + " | " + cause
	f := rb.failures[key]
	if f == nil {
		f = &robustFailure{example: r, status: status, ctype: ctype, resp: string(body), logs: logs}
		rb.failures[key] = f
		rb.order = append(rb.order, key)
	}
	f.count++
}

// logCause is the error or panic the server logged for a 500, without the
// variable parts (request IDs, stacks), so one cause groups into one report.
func logCause(logs string) string {
	for _, line := range strings.Split(logs, "\n") {
		for _, key := range []string{" panic=", " error="} {
			if i := strings.Index(line, key); i >= 0 {
				v := line[i+len(key):]
				if j := strings.Index(v, " stack="); j >= 0 {
					v = v[:j]
				}
				if j := strings.Index(v, " request_id="); j >= 0 {
					v = v[:j]
				}
				return strings.TrimSpace(key) + " " + truncate(v, 300)
			}
		}
	}
	return "(nothing logged)"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (rb *robustFixture) report(t *testing.T) {
	t.Helper()
	codes := make([]int, 0, len(rb.statuses))
	for c := range rb.statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var dist []string
	for _, c := range codes {
		dist = append(dist, fmt.Sprintf("%d×%d", c, rb.statuses[c]))
	}
	t.Logf("robustness: %d requests; statuses %s", rb.requests, strings.Join(dist, " "))
	sort.Strings(rb.order)
	for _, key := range rb.order {
		f := rb.failures[key]
		r := f.example
		target := r.path
		if r.query != "" {
			target += "?" + r.query
		}
		body := "(no body)"
		if r.hasBody {
			body = short(string(r.body))
		}
		t.Errorf("%s\n  %d request(s); e.g. [%s] %s %s\n  Content-Type: %q  body: %s\n  → %d %s %s\n  server log: %s",
			key, f.count, r.label, r.method, short(target), r.contentType, body,
			f.status, f.ctype, truncate(strings.TrimSpace(f.resp), 300), truncate(strings.TrimSpace(f.logs), 600))
	}
}

package devstack_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/testwait"
	"github.com/tollgate/tollgate/workflows"
)

// chromiumPath finds a Chromium or Chrome binary. Without one the browser
// test skips on a developer machine; in CI (CI set) it fails, since .ci/run
// installs Debian's chromium package.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "" {
		t.Skip("no Chromium binary found (install Debian's chromium package to run the dashboard browser test; with CI set this test fails instead)")
	}
	t.Fatal("no Chromium binary found, and CI is set: .ci/run should have installed the chromium package")
	return ""
}

// browser is one headless Chromium tab with what the page reported: uncaught
// exceptions and security (Content-Security-Policy) messages.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // tests run as root in CI containers
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			// Failed API calls (the refused approval's 422) are logged as
			// network errors on purpose; only security messages count.
			if ev.Entry.Source == log.EntrySourceSecurity || strings.Contains(ev.Entry.Text, "Content Security Policy") {
				msg = "security: " + ev.Entry.Text
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.problems = append(b.problems, msg)
			b.mu.Unlock()
		}
	}))
	return b
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, testwait.Scale(b.t, 60*time.Second))
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...), what)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, testwait.Scale(b.t, 30*time.Second))
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	require.NoError(b.t, err, "text of %s", sel)
	return s
}

func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, testwait.Scale(b.t, 30*time.Second))
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	require.NoError(b.t, err, expr)
	return s
}

// waitText polls until the element's text contains want: the page refreshes
// on its own timer, so the test waits for it the way a user would.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const n = document.querySelector(%q); return n ? n.textContent : ""; })()`, sel)
	testwait.For(b.t, 60*time.Second, fmt.Sprintf("the text of %s to contain %q", sel, want), func() (string, bool) {
		got := b.eval(js)
		return got, strings.Contains(got, want)
	})
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("TOLLGATE_DASHBOARD_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, testwait.Scale(b.t, 30*time.Second))
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}

func (b *browser) requireNoProblems() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(b.t, b.problems, "the page reported exceptions or CSP violations")
}

// TestDashboardInBrowser drives the dashboard in headless Chromium against
// the real stack: an operator signs in, reads the KPIs and the live
// position, starts a cycle from the form, is refused when approving their
// own cycle, signs out; an approver signs in and approves, and the page
// shows the cycle completed. Set TOLLGATE_DASHBOARD_SCREENSHOTS to a
// directory to keep screenshots of the way.
func TestDashboardInBrowser(t *testing.T) {
	b := newBrowser(t) // skips before the stack starts when there is no browser
	st, admin := startStack(t)
	c := apiClient{t: t, base: st.APIURL}
	approverKey, approverID, hash := api.GenerateKey()
	_, err := st.Pool.Exec(t.Context(), `INSERT INTO api_keys (id, name, role, secret_hash) VALUES ($1, $2, $3, $4)`,
		approverID, "alice", "approver", hash)
	require.NoError(t, err)

	// Data through the API: one contract that needs one approval above 1.00.
	c.call("POST", "/v1/parties", admin, `{"id":"op-d","kind":"operator","name":"Arcade","currency":"EUR"}`, 201, nil)
	c.call("POST", "/v1/parties", admin, `{"id":"pv-d","kind":"provider","name":"Studio","currency":"EUR"}`, 201, nil)
	c.call("POST", "/v1/contracts", admin, `{"id":"c-d","operator_id":"op-d","provider_id":"pv-d","currency":"EUR","timezone":"UTC",
	 "schedule":{"every":"24h"},"grace_period":"0s",
	 "terms":{"effective_from":"2026-01-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.10"}],
	          "fee_per_charge":"0.01","minimum_guarantee":"0.00","cap":null,"carry_negative":true},
	 "approval":{"auto_approve_limit":"1.00","approvals_required":1,"approval_timeout":"48h"},
	 "payout":{"adapter":"simulated"}}`, 201, nil)
	end := time.Now().UTC().Truncate(time.Minute)
	row := func(ext, amount string, at time.Time) string {
		return fmt.Sprintf(`{"provider_id":"pv-d","operator_id":"op-d","external_id":%q,"kind":"charge","amount":%q,"currency":"EUR","occurred_at":%q}`,
			ext, amount, at.Format(time.RFC3339))
	}
	c.call("POST", "/v1/transactions", admin, `{"transactions":[`+row("d1", "1000.00", end.Add(-30*time.Minute))+","+
		row("d2", "500.00", end.Add(-20*time.Minute))+","+row("d3", "1.001", end.Add(-10*time.Minute))+`]}`, 200, nil)
	var pos struct {
		Total string `json:"total"`
	}
	c.call("GET", "/v1/contracts/c-d/position", admin, "", 200, &pos)
	require.Equal(t, "150.02", pos.Total, "10% of 1500.00 plus two charge fees")

	// Sign in; the KPI panel and the live position appear.
	b.do("open the dashboard", chromedp.Navigate(st.APIURL+"/dashboard"), chromedp.WaitVisible(chromedp.ID("signin-key")))
	// The style sheet loaded under the page's CSP.
	require.Equal(t, "rgb(31, 78, 121)", b.eval(`getComputedStyle(document.querySelector("header")).backgroundColor`))
	b.do("sign in as the operator", chromedp.SendKeys(chromedp.ID("signin-key"), admin), chromedp.Click(chromedp.ID("signin-submit")),
		chromedp.WaitVisible(chromedp.ID("kpi-awaiting")))
	require.Equal(t, admin, b.eval(`sessionStorage.getItem("tollgate.apiKey")`))
	require.Equal(t, "", b.eval(`document.getElementById("signin-key").value`), "the key does not stay in the form")
	require.Equal(t, "0", b.eval(`String(localStorage.length)`), "nothing in localStorage")
	b.waitText("#kpi-contracts .kpi-value", "1")
	b.waitText("#kpi-unsettled .kpi-value", "2")
	b.waitText("#kpi-dead-letters .kpi-value", "1")
	b.waitText(`#contracts tr[data-contract="c-d"] .position`, "150.02 EUR")
	b.screenshot("dashboard-overview.png")

	// An open dead letter (three decimals in EUR) is discarded with a reason.
	b.do("open dead letters", chromedp.Click(chromedp.CSS(`#nav a[data-view="dead-letters"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dead-letters tr[data-dead-letter] input`)))
	require.Contains(t, b.text("#dead-letters tbody"), "d3")
	b.do("discard it", chromedp.SendKeys(chromedp.CSS(`#dead-letters tr[data-dead-letter] input`), "sent again correctly"),
		chromedp.Click(chromedp.CSS(`#dead-letters tr[data-dead-letter] button.danger`)))
	b.waitText("#dead-letters-result", "discarded")
	b.waitText("#dead-letters", "No open dead letters.")

	// Start the cycle from the form; it stops for approval.
	cycleID := workflows.CycleID("c-d", end)
	b.do("open cycles", chromedp.Click(chromedp.CSS(`#nav a[data-view="cycles"]`)),
		chromedp.WaitReady(chromedp.CSS(`#start-contract option[value="c-d"]`)),
		chromedp.SetValue(chromedp.ID("start-contract"), "c-d"),
		chromedp.SetValue(chromedp.ID("start-period-end"), end.Format("2006-01-02T15:04")),
		chromedp.Click(chromedp.ID("start-submit")),
		chromedp.WaitVisible(chromedp.ID("view-cycle")))
	b.waitText("#cycle-id", cycleID)
	b.waitText("#cycle-status", "awaiting approval")
	b.do("back to the list, filtered", chromedp.Click(chromedp.CSS(`#view-cycle a[href="#/cycles"]`)),
		chromedp.WaitVisible(chromedp.ID("cycles-status")),
		chromedp.SetValue(chromedp.ID("cycles-status"), workflows.StatusAwaitingApproval),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("cycles-status").dispatchEvent(new Event("change"))`))
	b.waitText(fmt.Sprintf(`#cycles tr[data-cycle=%q] .status`, cycleID), "awaiting approval")
	b.waitText(fmt.Sprintf(`#cycles tr[data-cycle=%q]`, cycleID), "150.02 EUR")
	b.do("open the cycle", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#cycles tr[data-cycle=%q] a`, cycleID))),
		chromedp.WaitVisible(chromedp.CSS(`#cycle-statement tr[data-line="revenue_share"]`)))
	b.waitText("#statement-total", "150.02 EUR")
	line := b.text(`#cycle-statement tr[data-line="revenue_share"]`)
	require.Contains(t, line, "1500.00", "the basis")
	require.Contains(t, line, "0.10", "the rate")
	require.Contains(t, line, "150.00", "the amount")

	// The initiator may not approve: the workflow's refusal is shown.
	b.do("approve as the initiator", chromedp.Click(chromedp.ID("act-approve"), chromedp.NodeEnabled))
	b.waitText("#action-result.error", "initiated this cycle and cannot also approve it")
	b.waitText("#cycle-status", "awaiting approval")
	b.screenshot("dashboard-refused.png")

	// Sign out forgets the key; the approver signs in and approves.
	b.do("sign out", chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("signin-key")))
	require.Equal(t, "none", b.eval(`sessionStorage.getItem("tollgate.apiKey") ?? "none"`))
	require.Equal(t, "", b.eval(`document.getElementById("cycle-statement").textContent`), "signed-out pages keep no data")
	b.do("sign in as the approver", chromedp.SendKeys(chromedp.ID("signin-key"), approverKey), chromedp.Click(chromedp.ID("signin-submit")),
		chromedp.WaitVisible(chromedp.ID("view-cycle")))
	require.Equal(t, "key tg_"+approverID, b.text("#who-key"))
	b.waitText("#cycle-status", "awaiting approval")
	b.do("approve", chromedp.SendKeys(chromedp.ID("cycle-comment"), "checked against the provider's report"),
		chromedp.Click(chromedp.ID("act-approve"), chromedp.NodeEnabled))
	b.waitText("#action-result.ok", "Approval recorded (1 of 1 required)")
	b.waitText("#cycle-status", "completed")
	b.waitText("#cycle-approvals", "checked against the provider's report")
	b.waitText("#cycle-payout", "confirmed")
	b.waitText("#cycle-ledger", "150.02 EUR")
	b.screenshot("dashboard-completed.png")
	var doc cycleDoc
	c.call("GET", "/v1/cycles/"+cycleID, admin, "", 200, &doc)
	require.Equal(t, workflows.StatusCompleted, doc.Status)
	require.Len(t, doc.Approvals, 1)
	require.Equal(t, "alice", doc.Approvals[0].Approver)

	b.requireNoProblems()
	// The policy still forbids what the page does not need: an inline
	// script injected into the page does not run.
	require.Equal(t, "blocked", b.eval(`(() => { const s = document.createElement("script");
		s.textContent = "window.inlineRan = true"; document.body.append(s); return window.inlineRan ? "ran" : "blocked"; })()`))
}

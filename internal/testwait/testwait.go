// Package testwait is how tests wait for something that happens on its own
// time: a workflow reaching a status, a schedule's tick, a page refreshing.
// It polls on the test goroutine with a deadline instead of sleeping for a
// guessed while, and fails the test saying what never happened.
//
// Every deadline is multiplied by TOLLGATE_TEST_TIMEOUT_SCALE (default 1), so
// a slow or busy machine can give all waits more time at once, for example
// TOLLGATE_TEST_TIMEOUT_SCALE=3 go test ./... .
package testwait

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// ScaleEnv names the environment variable holding the factor applied to
// every deadline: a positive number, 1 when unset.
const ScaleEnv = "TOLLGATE_TEST_TIMEOUT_SCALE"

// Interval is the pause between two polls.
const Interval = 50 * time.Millisecond

// The factor is read once per test binary: every wait in a run scales alike.
var factor = sync.OnceValues(func() (float64, error) { return parseScale(os.Getenv(ScaleEnv)) })

func parseScale(raw string) (float64, error) {
	if raw == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || !(f > 0) || f > 1000 {
		return 0, fmt.Errorf("%s=%q: want a positive number such as 2 or 1.5", ScaleEnv, raw)
	}
	return f, nil
}

// Scale returns d multiplied by the factor. Tests that wait on a channel or
// bound a blocking call with a context, rather than poll, use it for their
// deadline.
func Scale(t testing.TB, d time.Duration) time.Duration {
	t.Helper()
	f, err := factor()
	if err != nil {
		t.Fatalf("testwait: %v", err)
	}
	return time.Duration(float64(d) * f)
}

// Until calls done on the test goroutine, at once and then every Interval,
// until it reports true. If that has not happened within the scaled
// deadline, it fails the test with what, which reads after "waiting for".
// done may itself fail the test (require, t.Fatal) when it sees a state
// that can never turn into the one awaited.
func Until(t testing.TB, within time.Duration, what string, done func() bool) {
	t.Helper()
	limit := Scale(t, within)
	if !poll(limit, done) {
		t.Fatalf("timed out after %s waiting for %s", limit, what)
	}
}

// For is Until for a value: get returns the current value and whether it is
// the one awaited. For returns that value, or fails the test with what and
// the last value seen.
func For[T any](t testing.TB, within time.Duration, what string, get func() (T, bool)) T {
	t.Helper()
	limit := Scale(t, within)
	var last T
	if !poll(limit, func() bool {
		v, ok := get()
		last = v
		return ok
	}) {
		format := "timed out after %s waiting for %s; last seen: %+v"
		if _, ok := any(last).(string); ok {
			format = "timed out after %s waiting for %s; last seen: %q"
		}
		t.Fatalf(format, limit, what, last)
	}
	return last
}

// poll reports whether done turned true before limit passed; done is
// called once more at the deadline.
func poll(limit time.Duration, done func() bool) bool {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(Interval)
	defer tick.Stop()
	for {
		if done() {
			return true
		}
		if !time.Now().Before(deadline) {
			return false
		}
		<-tick.C
	}
}

package testwait

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// failT records a fatal failure and stops the goroutine, as testing.T does.
type failT struct {
	testing.TB
	msg string
}

func (f *failT) Helper() {}

func (f *failT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls fn with a failT on a goroutine of its own, so Goexit ends only
// that goroutine, and returns the failure message ("" when none).
func run(t *testing.T, fn func(tb testing.TB)) string {
	ft := &failT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ft)
	}()
	<-done
	return ft.msg
}

func TestUntilReturnsOnceDone(t *testing.T) {
	t.Parallel()
	calls := 0
	Until(t, time.Minute, "the third call", func() bool {
		calls++
		return calls == 3
	})
	require.Equal(t, 3, calls)
}

func TestUntilChecksBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	msg := run(t, func(tb testing.TB) {
		Until(tb, 0, "a condition already true", func() bool { return true })
	})
	require.Empty(t, msg, "a condition already true passes even with no time left")
}

func TestUntilFailsWithWhat(t *testing.T) {
	t.Parallel()
	calls := 0
	msg := run(t, func(tb testing.TB) {
		Until(tb, 3*Interval, "the cycle to complete", func() bool { calls++; return false })
	})
	require.Contains(t, msg, "waiting for the cycle to complete")
	require.GreaterOrEqual(t, calls, 2, "polled more than once, and once at the deadline")
}

func TestForFailsWithLastValueOfAnyType(t *testing.T) {
	t.Parallel()
	msg := run(t, func(tb testing.TB) {
		For(tb, Interval, "two items", func() ([]int, bool) { return []int{7}, false })
	})
	require.Contains(t, msg, "last seen: [7]")
}

func TestForReturnsTheValue(t *testing.T) {
	t.Parallel()
	n := 0
	got := For(t, time.Minute, "n to reach 2", func() (int, bool) { n++; return n, n == 2 })
	require.Equal(t, 2, got)
}

func TestForFailsWithLastValue(t *testing.T) {
	t.Parallel()
	msg := run(t, func(tb testing.TB) {
		For(tb, Interval, "status completed", func() (string, bool) { return "awaiting_approval", false })
	})
	require.Contains(t, msg, "waiting for status completed")
	require.Contains(t, msg, `last seen: "awaiting_approval"`)
}

func TestParseScale(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]float64{"": 1, "1": 1, "2.5": 2.5, "0.5": 0.5} {
		f, err := parseScale(raw)
		require.NoError(t, err, raw)
		require.Equal(t, want, f, raw)
	}
	for _, raw := range []string{"0", "-1", "x", "NaN", "Inf", "1e9"} {
		_, err := parseScale(raw)
		require.ErrorContains(t, err, ScaleEnv, raw)
	}
}

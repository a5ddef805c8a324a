package api

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tollgate/tollgate"
)

// RateLimit is the per-credential request budget: a token bucket refilled
// at PerSecond with room for Burst. The defaults are generous (a 10,000-row
// ingest batch is one request); PerSecond < 0 turns limiting off.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

const (
	defaultRatePerSecond = 200
	defaultRateBurst     = 400
)

// keyLimiter holds one bucket per authenticated credential. Buckets exist
// only for credentials that passed authentication, so the map is bounded
// by the number of keys and identities, not by what strangers send.
type keyLimiter struct {
	limit rate.Limit
	burst int
	clock func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newKeyLimiter(cfg RateLimit, clock func() time.Time) *keyLimiter {
	if cfg.PerSecond < 0 {
		return nil
	}
	if cfg.PerSecond == 0 {
		cfg.PerSecond = defaultRatePerSecond
	}
	if cfg.Burst <= 0 {
		cfg.Burst = max(defaultRateBurst, int(math.Ceil(cfg.PerSecond)))
	}
	return &keyLimiter{limit: rate.Limit(cfg.PerSecond), burst: cfg.Burst, clock: clock, buckets: map[string]*rate.Limiter{}}
}

// allow spends one token of the credential's bucket or says how long to
// wait for one.
func (l *keyLimiter) allow(key string) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	now := l.clock()
	r := b.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	// Give the token back: a refused request must not cost budget.
	r.CancelAt(now)
	return &rateLimited{
		err: tollgate.Errorf(tollgate.CodeRateLimited, "rate limit of %g requests per second for this credential exceeded; retry after %s",
			float64(l.limit), delay.Round(time.Millisecond)),
		after: delay,
	}
}

// rateLimited carries the Retry-After value to the error handler.
type rateLimited struct {
	err   error
	after time.Duration
}

func (e *rateLimited) Error() string { return e.err.Error() }
func (e *rateLimited) Unwrap() error { return e.err }

// RetryAfter is whole seconds, rounded up, as the header requires.
func (e *rateLimited) RetryAfter() string {
	return strconv.Itoa(int(math.Ceil(e.after.Seconds())))
}

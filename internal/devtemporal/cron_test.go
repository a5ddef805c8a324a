package devtemporal_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/require"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/server/service/worker/scheduler"
	"pgregory.net/rapid"

	"github.com/tollgate/tollgate"
)

// The cron expressions of contracts are judged by robfig/cron in the root
// package and run by this server's scheduler. These tests hold the two
// against each other: what Tollgate accepts, Temporal accepts and fires at
// the times the library computes; each expression Tollgate refuses although
// one of the two would take it falls under a difference documented on
// validateCron (tollgate's contract.go), shown here against both parsers.

var cronStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const cronRuns = 40

// temporalRuns compiles expr as a schedule spec the way api/schedule.go
// sends it (in UTC here) and returns its next fire times.
func temporalRuns(expr string) ([]time.Time, error) {
	unlimited := func() int { return 0 }
	spec, err := scheduler.NewSpecBuilder(unlimited, unlimited).NewCompiledSpec(&schedulepb.ScheduleSpec{
		CronString: []string{expr}, TimezoneName: "UTC"})
	if err != nil {
		return nil, err
	}
	var out []time.Time
	after := cronStart
	for range cronRuns {
		next, err := spec.GetNextTime("", after)
		if err != nil {
			return nil, err
		}
		if next.Nominal.IsZero() {
			break
		}
		out = append(out, next.Nominal.UTC())
		after = next.Nominal
	}
	return out, nil
}

// libraryRuns returns the fire times robfig/cron computes for expr in UTC.
func libraryRuns(expr string) ([]time.Time, error) {
	sched, err := cron.ParseStandard(strings.TrimSpace(expr))
	if err != nil {
		return nil, err
	}
	var out []time.Time
	after := cronStart
	for range cronRuns {
		next := sched.Next(after)
		if next.IsZero() {
			break
		}
		out = append(out, next.UTC())
		after = next
	}
	return out, nil
}

// requireSameRuns checks that an expression Tollgate accepts is accepted by
// Temporal and means the same times to both readers.
func requireSameRuns(t require.TestingT, expr string) {
	want, err := libraryRuns(expr)
	require.NoError(t, err, "%q: Tollgate accepted what the library refuses", expr)
	got, err := temporalRuns(expr)
	require.NoError(t, err, "%q: Tollgate accepted what Temporal refuses", expr)
	require.Equal(t, want, got, "%q: Temporal fires at other times than the library", expr)
}

func TestCronAcceptedMeansTheSameToTemporal(t *testing.T) {
	for _, expr := range []string{
		"0 2 * * *", "*/15 * * * *", "0 0 1 * *", "0,15,30,45 8-18 * * 1-5", "0 0 1 1-12/3 *",
		"59 23 31 12 *", "0 0 * * 0", "0 0 * * 6", "  0  0 * * *  ", "5/15 * * * *", "*/61 * * * *",
		"0 6 * JAN-MAR,dec MON-fri", "0 0 * * */2", "0 0 * * */3", "0 0 * * */7", "0 0 * * 1-6/2",
		"005 +6 * * *", "0 0 30 2 *", "0 12 29 2 *", "0 0 31 * *", "30 4 1-7 * *", "0 9 * * sun",
		"@daily", "@midnight", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", " @daily ",
	} {
		require.NoError(t, tollgate.Schedule{Cron: expr}.Validate(), "%q", expr)
		requireSameRuns(t, expr)
	}
}

// TestCronAcceptedMeansTheSameToTemporalGenerated draws expressions from the
// grammar both readers share, mostly in range, with the spellings only one
// of them knows mixed in, and checks every one Tollgate accepts.
func TestCronAcceptedMeansTheSameToTemporalGenerated(t *testing.T) {
	fields := [5]struct {
		lo, hi int
		names  []string
	}{{0, 59, nil}, {0, 23, nil}, {1, 31, nil}, {1, 12, []string{"JAN", "feb", "Dec", "January"}}, {0, 6, []string{"MON", "tue", "Sun", "Tu"}}}
	value := func(i int) *rapid.Generator[string] {
		return rapid.Custom(func(t *rapid.T) string {
			if rapid.IntRange(0, 9).Draw(t, "odd") == 0 {
				words := append([]string{"?", "+3", "007", "", "L", "*", "7", "99"}, fields[i].names...)
				return rapid.SampledFrom(words).Draw(t, "word")
			}
			return strconv.Itoa(rapid.IntRange(fields[i].lo-1, fields[i].hi+1).Draw(t, "n"))
		})
	}
	field := func(i int) *rapid.Generator[string] {
		item := rapid.Custom(func(t *rapid.T) string {
			step := func() string { return "/" + strconv.Itoa(rapid.IntRange(0, 13).Draw(t, "step")) }
			switch rapid.IntRange(0, 4).Draw(t, "shape") {
			case 1:
				return value(i).Draw(t, "lo") + "-" + value(i).Draw(t, "hi")
			case 2:
				return value(i).Draw(t, "lo") + step()
			case 3:
				return value(i).Draw(t, "lo") + "-" + value(i).Draw(t, "hi") + step()
			case 4:
				return "*" + step()
			}
			return value(i).Draw(t, "v")
		})
		return rapid.OneOf(rapid.Just("*"), rapid.Custom(func(t *rapid.T) string {
			return strings.Join(rapid.SliceOfN(item, 1, 3).Draw(t, "items"), ",")
		}))
	}
	checked := 0
	rapid.Check(t, func(t *rapid.T) {
		for range 20 {
			var parts [5]string
			for i := range parts {
				parts[i] = field(i).Draw(t, cronFieldNames[i])
			}
			expr := strings.Join(parts[:], " ")
			if (tollgate.Schedule{Cron: expr}).Validate() != nil {
				continue
			}
			checked++
			requireSameRuns(t, expr)
		}
	})
	require.Greater(t, checked, 100, "the generator must reach the accepted set")
	t.Logf("%d generated expressions accepted and checked", checked)
}

var cronFieldNames = [5]string{"minute", "hour", "day_of_month", "month", "day_of_week"}

// TestCronDocumentedDifferences proves each difference validateCron lists:
// Tollgate refuses all of these, and each reader judges them as stated.
func TestCronDocumentedDifferences(t *testing.T) {
	const (
		temporalOnly    = iota // Temporal runs it, the library refuses it
		libraryOnly            // the library takes it, Temporal refuses it
		readDifferently        // both take it, but fire at different times
		both                   // both take it: Tollgate refuses it on purpose
	)
	for _, tc := range []struct {
		expr string
		kind int
	}{
		{"0 0 * * * 2030", temporalOnly},   // a year field
		{"0 0 0 * * * 2030", temporalOnly}, // seconds and a year
		{"0 0 * * 7", temporalOnly},        // 7 for Sunday
		{"0 0 * * 5-7", temporalOnly},
		{"0 0 * * Tu", temporalOnly},
		{"0 0 * January *", temporalOnly},
		{"0 0 * * 1#2", temporalOnly}, // "#" starts a comment
		{"@daily # nightly", temporalOnly},
		{"@every 1h/5m", temporalOnly}, // an interval with a phase
		{"0 0 * * ?", libraryOnly},
		{"1,,2 * * * *", libraryOnly},
		{",5 * * * *", libraryOnly},
		{"*-5 * * * *", libraryOnly},
		{"0 0 * * 1/2", readDifferently}, // Temporal adds Sunday
		{"0 0 * * 3/4", readDifferently},
		{"0 0 1 * 1", readDifferently}, // Temporal: the 1st when it is a Monday
		{"0 0 1-7 * mon", readDifferently},
		{"@every 1h", both},                        // schedule.every covers intervals
		{"CRON_TZ=UTC 0 0 * * *", both},            // the contract's timezone sets the zone
		{"TZ=Europe/Paris 0 0 * * *", libraryOnly}, // Temporal: conflicts with the spec's zone
	} {
		require.Error(t, tollgate.Schedule{Cron: tc.expr}.Validate(), "%q", tc.expr)
		_, libErr := libraryRuns(tc.expr)
		_, temporalErr := temporalRuns(tc.expr)
		switch tc.kind {
		case temporalOnly:
			require.Error(t, libErr, "%q", tc.expr)
			require.NoError(t, temporalErr, "%q", tc.expr)
		case libraryOnly:
			require.NoError(t, libErr, "%q", tc.expr)
			require.Error(t, temporalErr, "%q", tc.expr)
		case readDifferently:
			want, _ := libraryRuns(tc.expr)
			got, err := temporalRuns(tc.expr)
			require.NoError(t, libErr, "%q", tc.expr)
			require.NoError(t, err, "%q", tc.expr)
			require.NotEqual(t, want, got, "%q", tc.expr)
		case both:
			require.NoError(t, libErr, "%q", tc.expr)
			require.NoError(t, temporalErr, "%q", tc.expr)
		}
	}
}

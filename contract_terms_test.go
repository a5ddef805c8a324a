package tollgate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func day(month time.Month, d int) time.Time { return time.Date(2026, month, d, 0, 0, 0, 0, time.UTC) }

func version(n int, status string, from time.Time) TermsVersion {
	return TermsVersion{Version: n, Status: status, Terms: Terms{EffectiveFrom: from}}
}

func TestTermsInForce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		versions []TermsVersion
		at       time.Time
		want     int // the version in force, 0 for none
	}{
		{"no versions", nil, day(3, 1), 0},
		{"pending and rejected versions are never in force", []TermsVersion{
			version(1, TermsPending, day(1, 1)), version(2, TermsRejected, day(1, 1))}, day(3, 1), 0},
		{"a pending version does not replace the active one", []TermsVersion{
			version(1, TermsActive, day(1, 1)), version(2, TermsPending, day(2, 1))}, day(3, 1), 1},
		{"a rejected version does not replace the active one", []TermsVersion{
			version(1, TermsActive, day(1, 1)), version(2, TermsRejected, day(2, 1))}, day(3, 1), 1},
		{"the latest effective_from not after the time", []TermsVersion{
			version(1, TermsActive, day(1, 1)), version(2, TermsActive, day(2, 1)), version(3, TermsActive, day(3, 1))}, day(2, 15), 2},
		{"a future-dated version, before its date", []TermsVersion{
			version(1, TermsActive, day(1, 1)), version(2, TermsActive, day(4, 1))}, day(4, 1).Add(-time.Nanosecond), 1},
		{"a future-dated version, at its date", []TermsVersion{
			version(1, TermsActive, day(1, 1)), version(2, TermsActive, day(4, 1))}, day(4, 1), 2},
		{"a future-dated version, after its date", []TermsVersion{
			version(1, TermsActive, day(1, 1)), version(2, TermsActive, day(4, 1))}, day(5, 1), 2},
		{"a later version is not in force just because it is later", []TermsVersion{
			version(1, TermsActive, day(2, 1)), version(2, TermsActive, day(1, 1))}, day(3, 1), 1},
		{"a tie on effective_from: the later version", []TermsVersion{
			version(1, TermsActive, day(1, 1)), version(2, TermsActive, day(2, 1)), version(3, TermsActive, day(2, 1))}, day(3, 1), 3},
		{"a tie on effective_from, listed newest first: the later version", []TermsVersion{
			version(3, TermsActive, day(2, 1)), version(2, TermsActive, day(2, 1)), version(1, TermsActive, day(1, 1))}, day(3, 1), 3},
		{"a tie with a pending later version: the active one", []TermsVersion{
			version(1, TermsActive, day(2, 1)), version(2, TermsPending, day(2, 1))}, day(3, 1), 1},
		{"before every effective_from: the earliest active", []TermsVersion{
			version(1, TermsPending, day(1, 1)), version(2, TermsActive, day(3, 1)), version(3, TermsActive, day(2, 1))}, day(1, 15), 3},
		{"before every effective_from, a tie on the earliest: the later version", []TermsVersion{
			version(1, TermsActive, day(2, 1)), version(2, TermsActive, day(2, 1)), version(3, TermsActive, day(3, 1))}, day(1, 15), 2},
		{"before every effective_from, a tie on the earliest, newest first: the later version", []TermsVersion{
			version(3, TermsActive, day(3, 1)), version(2, TermsActive, day(2, 1)), version(1, TermsActive, day(2, 1))}, day(1, 15), 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := TermsInForce(tc.versions, tc.at)
			if tc.want == 0 {
				require.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			require.Equal(t, tc.want, got.Version)
		})
	}
}

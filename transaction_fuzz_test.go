package tollgate

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzCheckRow feeds arbitrary bytes to the row decoder/validator: it must
// never panic, and every rejection must carry a reason and a message.
func FuzzCheckRow(f *testing.F) {
	for _, seed := range []string{
		`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"charge","amount":"12.34","currency":"EUR","occurred_at":"2026-03-01T00:00:00Z"}`,
		`{"provider_id":"pv-1","operator_id":"op-1","external_id":"x","kind":"adjustment","amount":"-0.001","currency":"KWD","occurred_at":"2026-03-01T00:00:00.123456789+02:00","metadata":{"a":[1,2]}}`,
		`{"amount":12.34}`, `{"amount":"1e5"}`, `{"amount":"--1"}`, `{"amount":".5"}`, `{"currency":"eur"}`,
		`null`, `[]`, `"x"`, `{}`, `{"metadata":"x"}`, `{"occurred_at":"9999-12-31T23:59:59Z"}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // the batch decoder refuses invalid JSON before rows are seen
		}
		v, rej := CheckRow(0, b, now, "")
		// The one-pass batch decoder must judge a row exactly as the
		// row-by-row path does.
		if typed, ok := DecodeBatch([]json.RawMessage{b}); ok {
			v2, rej2 := typed[0].Check(0, b, now, "")
			if (rej == nil) != (rej2 == nil) || (rej != nil && rej.Error != rej2.Error) || string(v.Hash) != string(v2.Hash) {
				t.Fatalf("batch and row decoders disagree on %s: %+v / %+v", b, rej, rej2)
			}
		}
		if rej != nil {
			if rej.Reason == "" || rej.Error == "" {
				t.Fatalf("rejection without reason or message: %+v", rej)
			}
			return
		}
		if v.ProviderID == "" || v.ExternalID == "" || len(v.Hash) != 32 || v.OccurredAt.After(now.Add(FutureTolerance)) {
			t.Fatalf("accepted an incomplete row: %+v", v)
		}
		if v.Kind != "adjustment" && !v.Amount.IsPositive() {
			t.Fatalf("accepted a non-positive %s", v.Kind)
		}
	})
}

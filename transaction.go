package tollgate

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// MaxBatch is the most rows one ingest call accepts.
const MaxBatch = 10000

// FutureTolerance is how far in the future occurred_at may be (clock skew).
const FutureTolerance = 5 * time.Minute

// Transaction is a stored transaction as the API shows it.
type Transaction struct {
	ProviderID string          `json:"provider_id"`
	ExternalID string          `json:"external_id"`
	OperatorID string          `json:"operator_id"`
	ContractID string          `json:"contract_id"`
	Kind       string          `json:"kind"`
	Amount     string          `json:"amount"`
	Currency   string          `json:"currency"`
	OccurredAt time.Time       `json:"occurred_at"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Late       bool            `json:"late"`
	CycleID    string          `json:"cycle_id,omitempty"`
	ReceivedAt time.Time       `json:"received_at"`
}

// TxRow is one transaction as a provider sends it: every field a string
// (the amount a decimal string), metadata a JSON object.
type TxRow struct {
	ProviderID string          `json:"provider_id"`
	OperatorID string          `json:"operator_id"`
	ExternalID string          `json:"external_id"`
	Kind       string          `json:"kind"`
	Amount     json.RawMessage `json:"amount"`
	Currency   string          `json:"currency"`
	OccurredAt string          `json:"occurred_at"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

// Rejection reasons (stable: providers branch on them).
const (
	ReasonInvalid    = "invalid"
	ReasonNoContract = "no_active_contract"
	ReasonConflict   = "conflict"
	ReasonWrongParty = "wrong_provider"
)

// Rejection is a row that was not accepted, with a reason code a provider
// can branch on and a message a person can act on. ProviderID and Raw are
// what the dead-letter queue keeps; they are not part of the answer.
type Rejection struct {
	Index      int             `json:"index"`
	ExternalID string          `json:"external_id"`
	Reason     string          `json:"reason"`
	Error      string          `json:"error"`
	ProviderID string          `json:"-"`
	Raw        json.RawMessage `json:"-"`
}

// IngestResult answers an ingest batch.
type IngestResult struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
}

// ValidTransaction is a row that passed validation, normalised: the amount
// parsed (and kept as sent, so PostgreSQL parses the same exact figure), the
// time in UTC, metadata in canonical JSON, and the content hash that tells a
// duplicate (same hash) from a conflict (same key, other hash).
type ValidTransaction struct {
	Index      int
	ProviderID string
	ExternalID string
	OperatorID string
	Kind       string
	Amount     decimal.Decimal
	AmountText string
	Currency   string
	OccurredAt time.Time
	Metadata   []byte
	Hash       []byte
	Raw        json.RawMessage
}

// Reject builds the rejection of a valid row for a reason found later (no
// contract, a stored conflict).
func (v ValidTransaction) Reject(reason, format string, args ...any) Rejection {
	return Rejection{Index: v.Index, ExternalID: v.ExternalID, Reason: reason, Error: fmt.Sprintf(format, args...),
		ProviderID: v.ProviderID, Raw: v.Raw}
}

// BatchCopy is a row repeated with the same content earlier in its batch. It
// takes its first copy's verdict once that is known.
type BatchCopy struct {
	Index, FirstIndex int
	Row               ValidTransaction
}

// Batch is a checked ingest batch: the rows to store (the first copy of
// each key), the later identical copies, and the rows refused before any
// stored state was consulted.
type Batch struct {
	Valid    []ValidTransaction
	Copies   []BatchCopy
	Rejected []Rejection
}

// CheckBatch decodes and validates a batch. Bad rows never fail good ones.
// onlyProvider, when set, is the provider the caller may send for; rows that
// leave provider_id out are taken as that provider's.
func CheckBatch(raws []json.RawMessage, now time.Time, onlyProvider string) Batch {
	b := Batch{Valid: make([]ValidTransaction, 0, len(raws)), Rejected: []Rejection{}}
	first := make(map[[2]string]int, len(raws)) // key -> index into Valid
	typed, fast := DecodeBatch(raws)
	for i, raw := range raws {
		var v ValidTransaction
		var rej *Rejection
		if fast {
			v, rej = typed[i].Check(i, raw, now, onlyProvider)
		} else {
			v, rej = CheckRow(i, raw, now, onlyProvider)
		}
		if rej != nil {
			b.Rejected = append(b.Rejected, *rej)
			continue
		}
		k := [2]string{v.ProviderID, v.ExternalID}
		if j, seen := first[k]; seen {
			if bytes.Equal(b.Valid[j].Hash, v.Hash) {
				b.Copies = append(b.Copies, BatchCopy{Index: i, FirstIndex: b.Valid[j].Index, Row: v})
			} else {
				b.Rejected = append(b.Rejected, v.Reject(ReasonConflict,
					"external_id %q appears earlier in this batch (index %d) with different content", v.ExternalID, b.Valid[j].Index))
			}
			continue
		}
		first[k] = len(b.Valid)
		b.Valid = append(b.Valid, v)
	}
	return b
}

// JudgeCopies gives each repeated row its first copy's verdict: a duplicate
// when the first was stored (or already known), the same rejection when the
// first was rejected, so a provider never reads a rejected row's copy as
// stored. It returns the copies' new rejections.
func JudgeCopies(copies []BatchCopy, out *IngestResult) []Rejection {
	if len(copies) == 0 {
		return nil
	}
	rejected := make(map[int]Rejection, len(out.Rejected))
	for _, r := range out.Rejected {
		rejected[r.Index] = r
	}
	var added []Rejection
	for _, c := range copies {
		r, ok := rejected[c.FirstIndex]
		if !ok {
			out.Duplicates++
			continue
		}
		rej := c.Row.Reject(r.Reason, "same row as index %d, which was rejected: %s", c.FirstIndex, r.Error)
		rej.Index = c.Index
		added = append(added, rej)
	}
	out.Rejected = append(out.Rejected, added...)
	return added
}

// CheckRow decodes and checks one raw row.
func CheckRow(idx int, raw json.RawMessage, now time.Time, onlyProvider string) (ValidTransaction, *Rejection) {
	var r TxRow
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if strings.Contains(msg, "cannot unmarshal") {
			msg = "a field has the wrong JSON type (every field is a string; metadata an object): " + msg
		}
		pid := r.ProviderID
		if pid == "" {
			pid = onlyProvider
		}
		return ValidTransaction{}, &Rejection{Index: idx, ExternalID: r.ExternalID, Reason: ReasonInvalid,
			Error: "row is not a transaction object: " + msg, ProviderID: pid, Raw: raw}
	}
	return r.Check(idx, raw, now, onlyProvider)
}

// DecodeBatch decodes every row with one decoder over the batch, the common
// case of a well-formed batch; it reports false when any row is malformed,
// and the caller then decodes row by row to reject just those rows.
func DecodeBatch(raws []json.RawMessage) ([]TxRow, bool) {
	size := 2
	for _, r := range raws {
		size += len(r) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, '[')
	for i, r := range raws {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, r...)
	}
	buf = append(buf, ']')
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.DisallowUnknownFields()
	rows := make([]TxRow, 0, len(raws))
	if err := dec.Decode(&rows); err != nil || len(rows) != len(raws) {
		return nil, false
	}
	for i := range rows {
		if rows[i].Metadata != nil && string(rows[i].Metadata) == "null" {
			rows[i].Metadata = nil
		}
	}
	return rows, true
}

// Check applies the business rules to a decoded row; raw is the row as sent.
func (r TxRow) Check(idx int, raw json.RawMessage, now time.Time, onlyProvider string) (ValidTransaction, *Rejection) {
	if onlyProvider != "" && r.ProviderID == "" {
		r.ProviderID = onlyProvider
	}
	rej := func(reason, format string, args ...any) (ValidTransaction, *Rejection) {
		return ValidTransaction{}, &Rejection{Index: idx, ExternalID: r.ExternalID, Reason: reason,
			Error: fmt.Sprintf(format, args...), ProviderID: r.ProviderID, Raw: raw}
	}
	if len(raw) == 0 || raw[0] != '{' {
		return rej(ReasonInvalid, "row is not a transaction object")
	}
	if onlyProvider != "" && r.ProviderID != onlyProvider {
		return rej(ReasonWrongParty, "provider_id %q: this caller may only send transactions of provider %q", r.ProviderID, onlyProvider)
	}
	if err := ValidateID("provider_id", r.ProviderID); err != nil {
		return rej(ReasonInvalid, "%s", err.Error())
	}
	if err := ValidateID("operator_id", r.OperatorID); err != nil {
		return rej(ReasonInvalid, "%s", err.Error())
	}
	if r.ExternalID == "" || len(r.ExternalID) > 128 || strings.ContainsRune(r.ExternalID, 0) {
		return rej(ReasonInvalid, "external_id: required, 1 to 128 characters")
	}
	switch r.Kind {
	case KindCharge, KindPayout, KindAdjustment:
	default:
		return rej(ReasonInvalid, "kind: %q must be one of charge, payout, adjustment", r.Kind)
	}
	cur, err := ParseCurrency(r.Currency)
	if err != nil {
		return rej(ReasonInvalid, "currency: %s", err.Error())
	}
	var amountText string
	if len(r.Amount) == 0 || r.Amount[0] != '"' || json.Unmarshal(r.Amount, &amountText) != nil {
		return rej(ReasonInvalid, "amount: must be a decimal string such as \"12.34\", got %s", truncate(string(r.Amount), 40))
	}
	amount, err := ParseAmount(amountText, cur)
	if err != nil {
		return rej(ReasonInvalid, "amount: %s", err.Error())
	}
	if r.Kind != KindAdjustment && !amount.IsPositive() {
		return rej(ReasonInvalid, "amount: %s must be greater than zero for a %s (only adjustments may be zero or negative)", amountText, r.Kind)
	}
	occurred, err := time.Parse(time.RFC3339Nano, r.OccurredAt)
	if err != nil {
		return rej(ReasonInvalid, "occurred_at: %q is not an RFC 3339 time such as 2026-01-31T23:59:59Z", truncate(r.OccurredAt, 40))
	}
	if occurred.After(now.Add(FutureTolerance)) {
		return rej(ReasonInvalid, "occurred_at: %s is more than 5 minutes in the future", r.OccurredAt)
	}
	if occurred.Year() < 2000 {
		return rej(ReasonInvalid, "occurred_at: %s is before the year 2000", r.OccurredAt)
	}
	meta, msg := canonicalMetadata(r.Metadata)
	if msg != "" {
		return rej(ReasonInvalid, "metadata: %s", msg)
	}
	v := ValidTransaction{Index: idx, ProviderID: r.ProviderID, ExternalID: r.ExternalID, OperatorID: r.OperatorID,
		Kind: r.Kind, Amount: amount, AmountText: amountText, Currency: string(cur), OccurredAt: occurred.UTC(),
		Metadata: meta, Raw: raw}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00", v.OperatorID, v.Kind, v.Amount.String(), v.Currency,
		v.OccurredAt.Format(time.RFC3339Nano), meta)
	v.Hash = h.Sum(nil)
	return v, nil
}

// canonicalMetadata checks a row's metadata and returns it with sorted keys,
// so equal content hashes equally; msg says what is wrong, if anything.
func canonicalMetadata(m json.RawMessage) (canonical []byte, msg string) {
	if ContainsNULEscape(m) {
		return nil, "may not contain a NUL character (\\u0000)"
	}
	if len(m) == 0 || string(m) == "null" {
		return nil, ""
	}
	// UseNumber keeps numbers exactly as sent, so two metadata that differ
	// only in a long number's last digits hash differently.
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(m))
	dec.UseNumber()
	if m[0] != '{' || dec.Decode(&obj) != nil || dec.More() {
		return nil, "must be a JSON object"
	}
	if len(m) > 4096 {
		return nil, "at most 4096 bytes"
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, "must be a JSON object"
	}
	return out, ""
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

package workflows_test

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/activities"
	"github.com/tollgate/tollgate/internal/testdb"
	"github.com/tollgate/tollgate/ledger"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// ledgerStep is one call of the ledger contract: a post of in, or (when
// reverse is set) a reversal of the entry returned by step reverseOf.
type ledgerStep struct {
	name      string
	in        ledger.EntryInput
	reverse   bool
	reverseOf int   // index of the step whose entry is reversed
	entryID   int64 // reverse this ID instead, when set
	key       string
	reason    string
	// wantCode is the error code, or "" for success; then wantSameAs is the
	// index of the step whose entry must come back, or -1 for a new entry.
	wantCode   tollgate.Code
	wantSameAs int
}

func statementInput(key, cycle, desc string, amount int64) ledger.EntryInput {
	return ledger.EntryInput{IdempotencyKey: key, CycleID: cycle, Description: desc, Postings: []ledger.PostingInput{
		{Account: ledger.AccountKey{PartyID: operator, Purpose: ledger.PurposeOperatorPayable, Currency: "EUR"}, Amount: -amount},
		{Account: ledger.AccountKey{PartyID: provider, Purpose: ledger.PurposeProviderReceivable, Currency: "EUR"}, Amount: amount},
	}}
}

// ledgerContract is what the cycle relies on the ledger to do with reused
// keys and reversals (ledger/post.go).
func ledgerContract() []ledgerStep {
	first := statementInput("c1/post/1", "c1", "settlement c1", 500)
	reordered := first
	reordered.Postings = []ledger.PostingInput{first.Postings[1], first.Postings[0]}
	asReversal := statementInput("c1/reverse/1", "c1", "payout failed", -500)
	zeroLeg := statementInput("c1/post/1", "c1", "settlement c1", 500)
	zeroLeg.Postings = append(zeroLeg.Postings, ledger.PostingInput{Account: zeroLeg.Postings[0].Account, Amount: 0})
	unbalanced := statementInput("c1/post/2", "c1", "settlement c1", 500)
	unbalanced.Postings[1].Amount = 499
	return []ledgerStep{
		{name: "first post", in: first, wantSameAs: -1},
		{name: "same key, same content: the first entry", in: first, wantSameAs: 0},
		{name: "same key, legs in another order: the first entry", in: reordered, wantSameAs: 0},
		{name: "same key, other amount", in: statementInput("c1/post/1", "c1", "settlement c1", 600), wantCode: tollgate.CodeConflict},
		{name: "same key, other description", in: statementInput("c1/post/1", "c1", "settlement c1 again", 500), wantCode: tollgate.CodeConflict},
		{name: "same key, other cycle", in: statementInput("c1/post/1", "c2", "settlement c1", 500), wantCode: tollgate.CodeConflict},
		{name: "a zero leg is invalid before the key is looked at", in: zeroLeg, wantCode: tollgate.CodeInvalid},
		{name: "unbalanced", in: unbalanced, wantCode: tollgate.CodeInvalid},
		{name: "reverse", reverse: true, reverseOf: 0, key: "c1/reverse/1", reason: "payout failed", wantSameAs: -1},
		{name: "reverse again, same key and reason: the first reversal", reverse: true, reverseOf: 0, key: "c1/reverse/1", reason: "payout failed", wantSameAs: 8},
		{name: "reverse again, same key, other reason", reverse: true, reverseOf: 0, key: "c1/reverse/1", reason: "payout failed: ", wantCode: tollgate.CodeConflict},
		{name: "reverse again under a new key", reverse: true, reverseOf: 0, key: "c1/reverse/2", reason: "payout failed", wantCode: tollgate.CodeConflict},
		{name: "reverse a reversal", reverse: true, reverseOf: 8, key: "c1/reverse/3", reason: "undo", wantCode: tollgate.CodeInvalid},
		{name: "reverse under the posting's own key", reverse: true, reverseOf: 0, key: "c1/post/1", reason: "settlement c1", wantCode: tollgate.CodeConflict},
		{name: "post the reversal's content as a plain entry under its key", in: asReversal, wantCode: tollgate.CodeConflict},
		{name: "reverse without a reason", reverse: true, reverseOf: 0, key: "c1/reverse/4", wantCode: tollgate.CodeInvalid},
		{name: "reverse an unknown entry", reverse: true, entryID: 999, key: "c1/reverse/5", reason: "typo", wantCode: tollgate.CodeNotFound},
		{name: "a new key after all that", in: statementInput("c1/post/2", "c1", "settlement c1", 500), wantSameAs: -1},
	}
}

// runLedgerContract plays the contract against l and checks every answer.
func runLedgerContract(t *testing.T, l activities.Ledger) {
	ctx := t.Context()
	ids := map[int]int64{}
	for i, s := range ledgerContract() {
		var e ledger.Entry
		var err error
		if s.reverse {
			id := s.entryID
			if id == 0 {
				id = ids[s.reverseOf]
			}
			e, err = l.Reverse(ctx, id, s.key, s.reason)
		} else {
			e, err = l.Post(ctx, s.in)
		}
		if s.wantCode != "" {
			require.Error(t, err, "step %d: %s", i, s.name)
			require.Equal(t, s.wantCode, tollgate.ErrorCode(err), "step %d: %s: %v", i, s.name, err)
			continue
		}
		require.NoError(t, err, "step %d: %s", i, s.name)
		ids[i] = e.ID
		if s.wantSameAs >= 0 {
			require.Equal(t, ids[s.wantSameAs], e.ID, "step %d: %s", i, s.name)
			continue
		}
		for j, id := range ids {
			if j != i {
				require.NotEqual(t, id, e.ID, "step %d: %s: a new entry was expected, got step %d's", i, s.name, j)
			}
		}
	}
}

// The fake answers the contract as the real ledger does; running the same
// script against both keeps them from drifting apart.
func TestFakeLedgerFollowsTheLedgerContract(t *testing.T) {
	t.Parallel()
	t.Run("fake", func(t *testing.T) {
		t.Parallel()
		runLedgerContract(t, &fakeLedger{})
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		runLedgerContract(t, ledger.New(testdb.Pool(t)))
	})
}

// At the activity boundary a reused key with different content, and a
// second reversal, are Conflicts that Temporal does not retry.
func TestFakeLedgerRefusesReusedKeyWithDifferentContent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l := &fakeLedger{}
	a := &activities.Activities{Ledger: l}
	req := activities.PostRequest{CycleID: "c1", IdempotencyKey: "c1/post/1", OperatorID: operator, ProviderID: provider,
		Currency: "EUR", TotalMinor: 500, Description: "settlement c1"}

	first, err := a.PostStatement(ctx, req)
	require.NoError(t, err)
	again, err := a.PostStatement(ctx, req)
	require.NoError(t, err)
	require.Equal(t, first, again, "a retry returns the original entry")

	changed := req
	changed.TotalMinor = 600
	_, err = a.PostStatement(ctx, changed)
	requireNonRetryable(t, err, tollgate.ErrTypeConflict)
	require.Equal(t, []string{"c1/post/1"}, l.keys(), "nothing was written")
	require.EqualValues(t, 500, l.balance(provider, ledger.PurposeProviderReceivable))

	rev, err := a.ReversePosting(ctx, activities.ReverseRequest{EntryID: first.EntryID, IdempotencyKey: "c1/reverse/1", Reason: "payout failed"})
	require.NoError(t, err)
	_, err = a.ReversePosting(ctx, activities.ReverseRequest{EntryID: first.EntryID, IdempotencyKey: "c1/reverse/1", Reason: "payout failed: "})
	requireNonRetryable(t, err, tollgate.ErrTypeConflict)
	_, err = a.ReversePosting(ctx, activities.ReverseRequest{EntryID: first.EntryID, IdempotencyKey: "c1/reverse/2", Reason: "payout failed"})
	requireNonRetryable(t, err, tollgate.ErrTypeConflict)
	_, err = a.ReversePosting(ctx, activities.ReverseRequest{EntryID: rev.EntryID, IdempotencyKey: "c1/reverse/3", Reason: "undo"})
	requireNonRetryable(t, err, tollgate.ErrTypeInvalid)
	require.Zero(t, l.balance(provider, ledger.PurposeProviderReceivable), "reversed exactly once")
}

// A lost acknowledgement is reported as retryable, and the retry replays.
func TestFakeLedgerLostAckIsRetryableAndReplays(t *testing.T) {
	t.Parallel()
	l := &fakeLedger{}
	in := statementInput("c1/post/1", "c1", "settlement c1", 500)
	l.loseAcks(in.IdempotencyKey, 1)
	_, err := l.Post(t.Context(), in)
	require.Equal(t, tollgate.CodeUnavailable, tollgate.ErrorCode(err))
	e, err := l.Post(t.Context(), in)
	require.NoError(t, err)
	require.EqualValues(t, 1, e.ID)
	require.EqualValues(t, 500, l.balance(provider, ledger.PurposeProviderReceivable), "committed once")
}

func requireNonRetryable(t *testing.T, err error, errType string) {
	t.Helper()
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "want an application error, got %v", err)
	require.Equal(t, errType, app.Type(), "%v", err)
	require.True(t, app.NonRetryable(), "%v", err)
}

var _ activities.Ledger = (*fakeLedger)(nil)

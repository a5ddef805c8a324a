package activities

import (
	"context"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/ledger"
)

// Ledger is what the cycle needs of the ledger; *ledger.Ledger implements it.
type Ledger interface {
	Post(ctx context.Context, in ledger.EntryInput) (ledger.Entry, error)
	Reverse(ctx context.Context, entryID int64, idempotencyKey, reason string) (ledger.Entry, error)
}

// PostRequest is the input of PostStatement.
type PostRequest struct {
	CycleID        string
	IdempotencyKey string
	OperatorID     string
	ProviderID     string
	Currency       tollgate.Currency
	// TotalMinor is the statement total: positive when the operator pays
	// the provider, negative when the provider owes the operator.
	TotalMinor  int64
	Description string
}

// PostResult names the entry posted (or found, on a retry).
type PostResult struct {
	EntryID int64
}

// PostStatement books the statement: the operator's payable goes down by the
// total and the provider's receivable up by it. A negative total books the
// mirror through the same two legs. Idempotent on the key.
func (a *Activities) PostStatement(ctx context.Context, req PostRequest) (PostResult, error) {
	if req.TotalMinor == 0 {
		return PostResult{}, classify(tollgate.Errorf(tollgate.CodeInvalid, "cycle %s: a zero total is not posted", req.CycleID))
	}
	e, err := a.Ledger.Post(ctx, statementEntry(req))
	if err != nil {
		return PostResult{}, classify(err)
	}
	return PostResult{EntryID: e.ID}, nil
}

func statementEntry(req PostRequest) ledger.EntryInput {
	return ledger.EntryInput{
		IdempotencyKey: req.IdempotencyKey,
		CycleID:        req.CycleID,
		Description:    req.Description,
		Postings: []ledger.PostingInput{
			{Account: ledger.AccountKey{PartyID: req.OperatorID, Purpose: ledger.PurposeOperatorPayable, Currency: req.Currency}, Amount: -req.TotalMinor},
			{Account: ledger.AccountKey{PartyID: req.ProviderID, Purpose: ledger.PurposeProviderReceivable, Currency: req.Currency}, Amount: req.TotalMinor},
		},
	}
}

// ReverseRequest is the input of ReversePosting.
type ReverseRequest struct {
	EntryID        int64
	IdempotencyKey string
	Reason         string
}

// ReverseResult names the reversal entry.
type ReverseResult struct {
	EntryID int64
}

// ReversePosting undoes a statement posting, idempotent on the key.
func (a *Activities) ReversePosting(ctx context.Context, req ReverseRequest) (ReverseResult, error) {
	e, err := a.Ledger.Reverse(ctx, req.EntryID, req.IdempotencyKey, req.Reason)
	if err != nil {
		return ReverseResult{}, classify(err)
	}
	return ReverseResult{EntryID: e.ID}, nil
}

package ledger

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate/tollgate"
)

// BreakKind says what Verify found wrong.
type BreakKind string

const (
	BreakSequence     BreakKind = "sequence"      // a chain link is missing or out of order
	BreakMissingEntry BreakKind = "missing_entry" // a link names an entry that is gone
	BreakUnbalanced   BreakKind = "unbalanced"    // an entry's postings do not sum to zero
	BreakContent      BreakKind = "content"       // an entry's rows do not match its content hash
	BreakLink         BreakKind = "link"          // a link's hash does not follow from the previous one
	BreakHead         BreakKind = "head"          // the chain head does not match the last link
	BreakUnchained    BreakKind = "unchained"     // an entry has no chain link
	BreakBalance      BreakKind = "balance"       // an account's balance is not the sum of its postings
	BreakTrialBalance BreakKind = "trial_balance" // balances of a currency do not sum to zero
)

// Break is the first inconsistency Verify found.
type Break struct {
	Kind      BreakKind
	Seq       int64 // chain position, when the break is in the chain
	EntryID   int64
	AccountID int64
	Currency  tollgate.Currency
	Detail    string
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	OK           bool
	Entries      int64  // chain links checked
	Accounts     int64  // accounts checked
	Head         string // hex hash of the last link
	TrialBalance map[tollgate.Currency]int64
	Break        *Break // the first break, nil when OK
	// Stale lists accounts whose stored minor units predate a change of
	// their currency's exponent, or whose currency is no longer known
	// (issue 11). They do not break the chain or the trial balance, so OK
	// does not depend on them; an operator must still act on each.
	Stale     []StaleAccount
	CheckedAt time.Time
}

const verifyPage = 1000

// Verify recomputes the hash chain and the trial balance on one consistent
// snapshot and reports the first break. An error means Verify could not run,
// not that the books are wrong.
func (l *Ledger) Verify(ctx context.Context) (VerifyReport, error) {
	r := VerifyReport{TrialBalance: map[tollgate.Currency]int64{}, CheckedAt: l.now().UTC()}
	err := pgx.BeginTxFunc(ctx, l.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := verifyChain(ctx, tx, &r); err != nil {
			return err
		}
		if err := verifyBalances(ctx, tx, &r); err != nil {
			return err
		}
		stale, err := staleAccounts(ctx, tx)
		r.Stale = stale
		return err
	})
	if err != nil {
		return VerifyReport{}, tollgate.Wrap(tollgate.CodeInternal, err, "verifying the ledger")
	}
	r.OK = r.Break == nil
	return r, nil
}

type chainRow struct {
	seq, entryID     int64
	hash             []byte
	present          bool
	key, cycle, desc string
	reverses         int64
	postedAt         time.Time
	content          []byte
	postings         []canonicalPosting
}

func verifyChain(ctx context.Context, tx pgx.Tx, r *VerifyReport) error {
	prev := make([]byte, 32)
	var last int64
	for {
		rows, err := tx.Query(ctx, `
SELECT c.seq, c.entry_id, c.hash, e.id IS NOT NULL, coalesce(e.idempotency_key, ''), coalesce(e.cycle_id, ''),
       coalesce(e.description, ''), coalesce(e.reverses_id, 0), coalesce(e.posted_at, 'epoch'), coalesce(e.content_hash, '')
FROM ledger_chain c LEFT JOIN ledger_entries e ON e.id = c.entry_id
WHERE c.seq > $1 ORDER BY c.seq LIMIT $2`, last, verifyPage)
		if err != nil {
			return err
		}
		page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*chainRow, error) {
			c := &chainRow{}
			err := row.Scan(&c.seq, &c.entryID, &c.hash, &c.present, &c.key, &c.cycle, &c.desc, &c.reverses, &c.postedAt, &c.content)
			return c, err
		})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		if err := loadCanonicalPostings(ctx, tx, page); err != nil {
			return err
		}
		for _, c := range page {
			if b := checkLink(c, last, prev); b != nil {
				r.Break = b
				return nil
			}
			r.Entries++
			last, prev = c.seq, c.hash
		}
	}
	r.Head = hex.EncodeToString(prev)

	var headSeq int64
	var headHash []byte
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM ledger_chain_head`).Scan(&headSeq, &headHash); err != nil {
		return err
	}
	if headSeq != last || !bytes.Equal(headHash, prev) {
		r.Break = &Break{Kind: BreakHead, Seq: headSeq,
			Detail: fmt.Sprintf("head is at seq %d hash %x; the last link is seq %d hash %x", headSeq, headHash, last, prev)}
		return nil
	}
	var unchained int64
	err := tx.QueryRow(ctx, `SELECT e.id FROM ledger_entries e
WHERE NOT EXISTS (SELECT 1 FROM ledger_chain c WHERE c.entry_id = e.id) ORDER BY e.id LIMIT 1`).Scan(&unchained)
	if err == nil {
		r.Break = &Break{Kind: BreakUnchained, EntryID: unchained, Detail: fmt.Sprintf("entry %d has no chain link", unchained)}
		return nil
	}
	if err != pgx.ErrNoRows {
		return err
	}
	return nil
}

func loadCanonicalPostings(ctx context.Context, tx pgx.Tx, page []*chainRow) error {
	ids := make([]int64, len(page))
	at := make(map[int64]*chainRow, len(page))
	for i, c := range page {
		ids[i] = c.entryID
		at[c.entryID] = c
	}
	rows, err := tx.Query(ctx, `SELECT entry_id, account_id, currency, amount FROM ledger_postings WHERE entry_id = ANY($1)`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var eid int64
		var p canonicalPosting
		if err := rows.Scan(&eid, &p.accountID, &p.currency, &p.amount); err != nil {
			return err
		}
		at[eid].postings = append(at[eid].postings, p)
	}
	return rows.Err()
}

// checkLink checks one link against its predecessor and its entry's rows.
func checkLink(c *chainRow, last int64, prev []byte) *Break {
	b := &Break{Seq: c.seq, EntryID: c.entryID}
	switch {
	case c.seq != last+1:
		b.Kind = BreakSequence
		b.Detail = fmt.Sprintf("link %d follows link %d", c.seq, last)
		return b
	case !c.present:
		b.Kind = BreakMissingEntry
		b.Detail = fmt.Sprintf("link %d names entry %d, which does not exist", c.seq, c.entryID)
		return b
	}
	sums := map[string]int64{}
	for _, p := range c.postings {
		sums[p.currency] += p.amount
	}
	if len(c.postings) < 2 {
		b.Kind = BreakUnbalanced
		b.Detail = fmt.Sprintf("entry %d has %d postings", c.entryID, len(c.postings))
		return b
	}
	for cur, s := range sums {
		if s != 0 {
			b.Kind, b.Currency = BreakUnbalanced, tollgate.Currency(cur)
			b.Detail = fmt.Sprintf("entry %d postings sum to %d minor units of %s", c.entryID, s, cur)
			return b
		}
	}
	got := contentHash(c.key, c.cycle, c.desc, c.reverses, c.postedAt, c.postings)
	if !bytes.Equal(got[:], c.content) {
		b.Kind = BreakContent
		b.Detail = fmt.Sprintf("entry %d content hashes to %x but %x is recorded", c.entryID, got, c.content)
		return b
	}
	link := chainLink(prev, c.seq, c.entryID, c.content)
	if !bytes.Equal(link[:], c.hash) {
		b.Kind = BreakLink
		b.Detail = fmt.Sprintf("link %d (entry %d) should hash to %x but %x is recorded", c.seq, c.entryID, link, c.hash)
		return b
	}
	return nil
}

func verifyBalances(ctx context.Context, tx pgx.Tx, r *VerifyReport) error {
	rows, err := tx.Query(ctx, `
SELECT a.id, a.currency, a.balance, coalesce(s.total, 0)::bigint
FROM ledger_accounts a
LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_postings GROUP BY account_id) s ON s.account_id = a.id
ORDER BY a.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, balance, total int64
		var cur tollgate.Currency
		if err := rows.Scan(&id, &cur, &balance, &total); err != nil {
			return err
		}
		r.Accounts++
		if balance != total && r.Break == nil {
			r.Break = &Break{Kind: BreakBalance, AccountID: id, Currency: cur,
				Detail: fmt.Sprintf("account %d balance is %d but its postings sum to %d", id, balance, total)}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Summed in SQL (numeric) so a broken ledger cannot overflow the check.
	rows, err = tx.Query(ctx, `SELECT currency, sum(balance)::text FROM ledger_accounts GROUP BY currency ORDER BY currency`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cur tollgate.Currency
		var sum string
		if err := rows.Scan(&cur, &sum); err != nil {
			return err
		}
		n, err := strconv.ParseInt(sum, 10, 64)
		if err != nil || n != 0 {
			if r.Break == nil {
				r.Break = &Break{Kind: BreakTrialBalance, Currency: cur,
					Detail: fmt.Sprintf("balances in %s sum to %s minor units, not zero", cur, sum)}
			}
		}
		r.TrialBalance[cur] = n
	}
	return rows.Err()
}

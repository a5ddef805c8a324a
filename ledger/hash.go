package ledger

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"time"
)

// The hash chain.
//
// Each entry stores contentHash = SHA-256 of its canonical content (below),
// computed by the writer before the transaction starts, so no lock is held
// while hashing. At commit a deferred trigger appends the chain link
//
//	link[seq] = SHA-256(link[seq-1] || be64(seq) || be64(entryID) || contentHash)
//
// by updating a single head row. That head row is the only global lock a
// writer takes, and it takes it last: after its postings and balance updates,
// inside COMMIT, so writers on different accounts overlap for all their work
// and serialise only for one small UPDATE and INSERT plus the commit itself.
// Chain order is commit order, which need not be entry ID order.
//
// Verify recomputes every content hash from the rows and every link from the
// previous one, so editing any entry or posting, or removing or reordering a
// link, is reported at the first entry affected.

const contentVersion = "tollgate.ledger.entry.v1"

// canonicalPosting is the part of a posting the content hash covers.
type canonicalPosting struct {
	accountID int64
	currency  string
	amount    int64
}

// contentHash hashes an entry's content in a fixed, length-prefixed encoding.
// Postings are sorted so the hash does not depend on insertion order.
func contentHash(key, cycleID, description string, reverses int64, postedAt time.Time, postings []canonicalPosting) [32]byte {
	ps := slices.Clone(postings)
	slices.SortFunc(ps, func(a, b canonicalPosting) int {
		switch {
		case a.accountID != b.accountID:
			return cmp.Compare(a.accountID, b.accountID)
		case a.currency != b.currency:
			return cmp.Compare(a.currency, b.currency)
		default:
			return cmp.Compare(a.amount, b.amount)
		}
	})
	h := sha256.New()
	var buf []byte
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	i64 := func(v int64) { buf = binary.BigEndian.AppendUint64(buf, uint64(v)) } //nolint:gosec // G115: two's-complement bits on purpose, as the SQL twin hashes them
	str(contentVersion)
	str(key)
	str(cycleID)
	str(description)
	i64(reverses)
	i64(postedAt.UnixMicro())
	i64(int64(len(ps)))
	for _, p := range ps {
		i64(p.accountID)
		str(p.currency)
		i64(p.amount)
	}
	h.Write(buf)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// chainLink is the Go twin of the SQL in ledger_entry_chain().
func chainLink(prev []byte, seq, entryID int64, content []byte) [32]byte {
	buf := make([]byte, 0, len(prev)+16+len(content))
	buf = append(buf, prev...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(seq))     //nolint:gosec // G115: two's-complement bits on purpose, as the SQL twin hashes them
	buf = binary.BigEndian.AppendUint64(buf, uint64(entryID)) //nolint:gosec // G115: two's-complement bits on purpose, as the SQL twin hashes them
	buf = append(buf, content...)
	return sha256.Sum256(buf)
}

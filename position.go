package tollgate

import "time"

// Position is a contract's live provisional statement: everything ingested
// and not yet claimed by a cycle, valued with the same arithmetic a cycle
// uses, at the rates in force at AsOf and with the carry the next cycle
// would take.
type Position struct {
	ContractID   string    `json:"contract_id"`
	Currency     Currency  `json:"currency"`
	NetRevenue   string    `json:"net_revenue"`
	CarryIn      string    `json:"carry_in"`
	Transactions int64     `json:"transactions"`
	Lines        []Line    `json:"lines"`
	Total        string    `json:"total"`
	FX           []FXUsed  `json:"fx"`
	Totals       []Totals  `json:"totals"`
	AsOf         time.Time `json:"as_of"`
}

// NewPosition presents a period's statement as a contract's position.
func NewPosition(contractID string, p Period, st Statement, at time.Time) Position {
	totals := p.Totals
	if totals == nil {
		totals = []Totals{}
	}
	return Position{ContractID: contractID, Currency: st.Currency, NetRevenue: st.NetRevenue, CarryIn: st.CarryIn,
		Transactions: st.Transactions, Lines: st.Lines, Total: st.Total, FX: st.FX, Totals: totals, AsOf: at.UTC()}
}

package activities

import (
	"context"
	"fmt"

	"github.com/tollgate/tollgate"
)

// CheckRequest is the input of CheckAnomalies.
type CheckRequest struct {
	CycleID    string
	Currency   tollgate.Currency
	TotalMinor int64
	Statement  tollgate.Statement
}

// CheckResult lists the anomaly flags; any flag forces manual approval.
type CheckResult struct {
	Flags []string
}

// Anomaly flag codes, shown to approvers and stored on the cycle.
const (
	AnomalyNegativeTotal  = "negative_total"
	AnomalyAboveThreshold = "total_above_threshold"
)

// CheckAnomalies scores the statement. The checks are deliberately simple
// and explainable; each flag says what an approver should look at.
func (a *Activities) CheckAnomalies(_ context.Context, req CheckRequest) (CheckResult, error) {
	flags, err := checkAnomalies(req, a.AnomalyLimits)
	return CheckResult{Flags: flags}, classify(err)
}

func checkAnomalies(req CheckRequest, limits map[tollgate.Currency]string) ([]string, error) {
	flags := []string{}
	cur := req.Currency
	if req.TotalMinor < 0 {
		flags = append(flags, fmt.Sprintf("%s: total %s %s is negative, so the provider owes the operator",
			AnomalyNegativeTotal, req.Statement.Total, cur))
	}
	if s, ok := limits[cur]; ok {
		limit, err := tollgate.ParseAmount(s, cur)
		if err != nil {
			return nil, tollgate.Wrap(tollgate.CodeInvalid, err, "anomaly limit for %s", cur)
		}
		limitMinor, err := tollgate.MinorUnits(limit, cur)
		if err != nil {
			return nil, err
		}
		if req.TotalMinor > limitMinor {
			flags = append(flags, fmt.Sprintf("%s: total %s %s is above the anomaly threshold %s %s",
				AnomalyAboveThreshold, req.Statement.Total, cur, tollgate.FormatAmount(limit, cur), cur))
		}
	}
	return flags, nil
}

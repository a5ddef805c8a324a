package payouts

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/tollgate/tollgate"
)

// SimulatedServer serves a simulated bank over the generic HTTP adapter's
// protocol (POST <base> with Idempotency-Key, GET <base>/<reference>). It
// lets a bank live outside the worker process, as a real one does: tests
// kill workers mid-payout and check the bank still paid exactly once.
func SimulatedServer(bank *Simulated) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodPost:
			var in httpInstruction
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				writeAnswer(w, http.StatusBadRequest, httpAnswer{Error: "body is not a payout instruction"})
				return
			}
			if key := r.Header.Get("Idempotency-Key"); key != in.IdempotencyKey {
				writeAnswer(w, http.StatusBadRequest, httpAnswer{Error: "Idempotency-Key header and body disagree"})
				return
			}
			ref, err := bank.Initiate(r.Context(), Request{IdempotencyKey: in.IdempotencyKey, PayeeID: in.Payee,
				Amount: in.AmountMinor, Currency: tollgate.Currency(in.Currency), Options: in.Options})
			if err != nil {
				writeError(w, err)
				return
			}
			writeAnswer(w, http.StatusOK, httpAnswer{Reference: ref, Status: string(StatusPending)})
		case http.MethodGet:
			ref := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			res, err := bank.Status(r.Context(), ref)
			if err != nil {
				writeError(w, err)
				return
			}
			writeAnswer(w, http.StatusOK, httpAnswer{Reference: ref, Status: string(res.Status), Reason: res.Reason})
		default:
			writeAnswer(w, http.StatusMethodNotAllowed, httpAnswer{Error: "use POST or GET"})
		}
	})
}

func writeError(w http.ResponseWriter, err error) {
	status := http.StatusUnprocessableEntity
	if IsTransient(err) {
		status = http.StatusServiceUnavailable
	}
	var te *tollgate.Error
	if errors.As(err, &te) && te.Code == tollgate.CodeNotFound {
		status = http.StatusNotFound
	}
	writeAnswer(w, status, httpAnswer{Error: err.Error()})
}

func writeAnswer(w http.ResponseWriter, status int, a httpAnswer) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

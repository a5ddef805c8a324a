package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/migrations"
	"github.com/tollgate/tollgate/store"
)

type benchRow struct {
	ProviderID string `json:"provider_id"`
	OperatorID string `json:"operator_id"`
	ExternalID string `json:"external_id"`
	Kind       string `json:"kind"`
	Amount     string `json:"amount"`
	Currency   string `json:"currency"`
	OccurredAt string `json:"occurred_at"`
}

func genBenchRows(n int, start time.Time) []benchRow {
	r := rand.New(rand.NewPCG(42, 42)) //nolint:gosec // G404: seeded on purpose, every run benchmarks the same rows
	kinds := []string{"charge", "charge", "charge", "charge", "payout", "adjustment"}
	rows := make([]benchRow, n)
	for i := range rows {
		rows[i] = benchRow{ProviderID: fmt.Sprintf("pv-%d", i%4), OperatorID: "op-1",
			ExternalID: fmt.Sprintf("ext-%09d", i), Kind: kinds[r.IntN(len(kinds))],
			Amount: decimal.New(r.Int64N(100000)+1, -2).StringFixed(2), Currency: "EUR",
			OccurredAt: start.Add(time.Duration(r.IntN(24*3600)) * time.Second).Format(time.RFC3339)}
	}
	return rows
}

func runIngest(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	n := fs.Int("n", 200000, "transactions to post")
	batch := fs.Int("batch", 1000, "rows per request")
	workers := fs.Int("workers", runtime.NumCPU(), "requests in flight")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the API phase to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url, stop, err := database(ctx, fs)
	if err != nil {
		return err
	}
	defer stop()
	if err := migrations.Up(ctx, url, nil); err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool, nil)
	start := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour)
	if err := seedContracts(ctx, st); err != nil {
		return err
	}
	key, _, _ := api.GenerateKey()
	if err := api.EnsureBootstrapKey(ctx, pool, key); err != nil {
		return err
	}
	srv := api.New(api.Deps{Pool: pool, Store: st})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := srv.HTTPServer(ln.Addr().String())
	go func() { _ = hs.Serve(ln) }() // returns http.ErrServerClosed when hs.Close below runs
	defer hs.Close()

	rows := genBenchRows(*n, start)
	bodies := make([][]byte, 0, *n / *batch + 1)
	for i := 0; i < len(rows); i += *batch {
		b, _ := json.Marshal(map[string]any{"transactions": rows[i:min(i+*batch, len(rows))]})
		bodies = append(bodies, b)
	}
	fmt.Printf("bench: machine: %s\n", machine())
	var pgVersion string
	_ = pool.QueryRow(ctx, `SHOW server_version`).Scan(&pgVersion)
	fmt.Printf("bench: PostgreSQL %s; %d rows in batches of %d, %d requests in flight\n", pgVersion, *n, *batch, *workers)

	// Baselines: COPY the same rows into bare tables with the same key,
	// first as one stream in one transaction (the fastest PostgreSQL takes
	// rows), then in batches of the API's size, one transaction each, with
	// the same concurrency (what any per-request commit costs).
	copyRate, err := copyBaseline(ctx, pool, "bench_copy", rows, len(rows), 1)
	if err != nil {
		return err
	}
	batchRate, err := copyBaseline(ctx, pool, "bench_copy_batched", rows, *batch, *workers)
	if err != nil {
		return err
	}

	// Tollgate: POST /v1/transactions with idempotency and bucket updates.
	var accepted, next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, *workers)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers}}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	apiStart := time.Now()
	progress := time.NewTicker(2 * time.Second)
	defer progress.Stop()
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-progress.C:
				fmt.Printf("bench: ... %d/%d rows accepted\n", accepted.Load(), *n)
			}
		}
	}()
	for w := 0; w < *workers; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+ln.Addr().String()+"/v1/transactions", bytes.NewReader(bodies[i]))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				var res tollgate.IngestResult
				err = json.NewDecoder(resp.Body).Decode(&res)
				_, _ = io.Copy(io.Discard, resp.Body) // drain for connection reuse; the decode result above is what counts
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || len(res.Rejected) > 0 {
					errc <- fmt.Errorf("batch %d: status %d, %d rejected, %v", i, resp.StatusCode, len(res.Rejected), err)
					return
				}
				accepted.Add(int64(res.Accepted))
			}
		})
	}
	wg.Wait()
	close(done)
	apiDur := time.Since(apiStart)
	select {
	case err := <-errc:
		return err
	default:
	}
	if accepted.Load() != int64(*n) {
		return fmt.Errorf("accepted %d of %d rows", accepted.Load(), *n)
	}
	apiRate := float64(*n) / apiDur.Seconds()
	fmt.Printf("bench: POST /v1/transactions %6.0f rows/s  (%d rows in %s)\n", apiRate, *n, apiDur.Round(time.Millisecond))
	fmt.Printf("bench: ratio API/COPY       %.2f  (target >= 0.50; against one COPY stream)\n", apiRate/copyRate)
	fmt.Printf("bench: ratio API/COPY in batches of %d  %.2f\n", *batch, apiRate/batchRate)
	fmt.Printf("bench: peak RSS of the API process %.0f MB (target <= 300 MB, includes the generated rows)\n", rssMB())

	// Check: the buckets hold exactly what was posted.
	var count int64
	if err := pool.QueryRow(ctx, `SELECT sum(tx_count)::bigint FROM bucket_totals`).Scan(&count); err != nil {
		return err
	}
	if count != int64(*n) {
		return fmt.Errorf("bucket totals hold %d rows, expected %d", count, *n)
	}
	return nil
}

func seedContracts(ctx context.Context, st *store.Store) error {
	if _, err := st.CreateParty(ctx, tollgate.Party{ID: "op-1", Kind: "operator", Name: "Bench operator", Currency: "EUR"}); err != nil {
		return err
	}
	for i := 0; i < 4; i++ {
		pv := fmt.Sprintf("pv-%d", i)
		if _, err := st.CreateParty(ctx, tollgate.Party{ID: pv, Kind: "provider", Name: "Bench " + pv, Currency: "EUR"}); err != nil {
			return err
		}
		var c tollgate.Contract
		raw := fmt.Sprintf(`{"id":"c-%d","operator_id":"op-1","provider_id":%q,"currency":"EUR","timezone":"UTC",
			"schedule":{"every":"24h"},"grace_period":"0s",
			"terms":{"effective_from":"2020-01-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.10"}],
				"fee_per_charge":"0.01","minimum_guarantee":"0","cap":null,"carry_negative":true},
			"approval":{"auto_approve_limit":"1000.00","approvals_required":1,"approval_timeout":"48h"},
			"payout":{"adapter":"simulated"}}`, i, pv)
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return err
		}
		if _, err := st.CreateContract(ctx, c, "bench"); err != nil {
			return err
		}
	}
	return nil
}

// copyBaseline COPYs rows into a new bare table in chunks of size, with
// workers chunks in flight, each chunk its own transaction, and returns
// rows per second.
func copyBaseline(ctx context.Context, pool *pgxpool.Pool, table string, rows []benchRow, size, workers int) (float64, error) {
	if _, err := pool.Exec(ctx, `CREATE TABLE `+table+` (provider_id text, external_id text, operator_id text, kind text,
		amount numeric, currency text, occurred_at timestamptz, PRIMARY KEY (provider_id, external_id))`); err != nil {
		return 0, err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(int64(size))) - size
				if i >= len(rows) {
					return
				}
				chunk := rows[i:min(i+size, len(rows))]
				_, err := pool.CopyFrom(ctx, pgx.Identifier{table},
					[]string{"provider_id", "external_id", "operator_id", "kind", "amount", "currency", "occurred_at"},
					pgx.CopyFromSlice(len(chunk), func(i int) ([]any, error) {
						r := chunk[i]
						at, _ := time.Parse(time.RFC3339, r.OccurredAt)
						return []any{r.ProviderID, r.ExternalID, r.OperatorID, r.Kind, r.Amount, r.Currency, at}, nil
					}))
				if err != nil {
					errc <- fmt.Errorf("COPY baseline %s: %w", table, err)
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return 0, err
	default:
	}
	d := time.Since(start)
	rate := float64(len(rows)) / d.Seconds()
	what := "one stream"
	if size < len(rows) {
		what = fmt.Sprintf("batches of %d, %d in flight", size, workers)
	}
	fmt.Printf("bench: COPY baseline (%s) %9.0f rows/s  (%d rows in %s)\n", what, rate, len(rows), d.Round(time.Millisecond))
	return rate, nil
}

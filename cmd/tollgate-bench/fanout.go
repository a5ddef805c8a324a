package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate/tollgate"
	"github.com/tollgate/tollgate/api"
	"github.com/tollgate/tollgate/internal/devstack"
	"github.com/tollgate/tollgate/store"
	"github.com/tollgate/tollgate/workflows"
)

// runFanout measures docs/architecture.md §7's scheduled fan-out target on the dev stack:
// N contracts whose Temporal Schedules share one cron tick, timed from the
// tick's nominal time until every one of the N cycles is completed.
//
// What "one tick" means here: every contract carries the same daily cron
// ("M H * * *" in UTC) for a whole minute shortly after set-up, and its
// schedule is created through PUT /v1/contracts/{id}/schedule, so each
// schedule has exactly the spec and policies production gives it. Nothing is
// triggered by hand: Temporal's scheduler fires all N schedules for the same
// nominal time, each ScheduledCycle tick starts its contract's cycle, and the
// cycles auto-approve and pay through the simulated bank. This is the
// "everyone settles at 06:00" case, the worst a single tick can be.
//
// The stack is the one tollgate-dev runs: embedded Temporal on a SQLite file
// in a temporary directory, the worker and the API in this process, and a
// private PostgreSQL with default durability (or BENCH_DATABASE_URL).
func runFanout(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	n := fs.Int("n", 1000, "contracts, each with its own schedule, all on the same tick")
	perContract := fs.Int("tx", 5, "transactions ingested per contract before the tick")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up this long after the tick if not all cycles completed")
	lead := fs.Duration("lead", 0, "time allowed for set-up before the tick (0: 30s + 50ms per contract)")
	inFlight := fs.Int("inflight", 4, "schedule-creating API requests in flight during set-up")
	memTemporal := fs.Bool("memory", false, "keep Temporal's state in memory instead of the dev stack's SQLite file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile from the tick to the last completed cycle to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *perContract < 1 || *inFlight < 1 {
		return errors.New("fanout: -n, -tx and -inflight must be positive")
	}
	if *lead == 0 {
		*lead = 30*time.Second + time.Duration(*n)*50*time.Millisecond
	}
	// The whole run is bounded: set-up by the lead (plus up to a minute to
	// the whole-minute tick), the measurement by the timeout after the tick,
	// and a minute more for starting the stack.
	ctx, cancel := context.WithTimeout(ctx, *lead+2*time.Minute+*timeout)
	defer cancel()

	url, stopDB, err := database(ctx, fs)
	if err != nil {
		return err
	}
	defer stopDB()
	dir, err := os.MkdirTemp("", "tollgate-bench-temporal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key, _, _ := api.GenerateKey()
	cfg := devstack.Config{DatabaseURL: url, DataDir: dir, APIAddr: "127.0.0.1:0", AdminKey: key}
	where := "on a SQLite file"
	if *memTemporal {
		cfg.DataDir, where = "", "in memory"
	}
	fmt.Printf("bench: starting the dev stack (Temporal %s, worker, API) ...\n", where)
	stack, err := devstack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer stack.Stop()
	fmt.Printf("bench: machine: %s\n", machine())

	// The tick: the first whole minute after the set-up allowance. Cron has
	// minute resolution, and the tick's nominal time becomes the period end.
	tick := time.Now().UTC().Add(*lead).Truncate(time.Minute).Add(time.Minute)
	cron := fmt.Sprintf("%d %d * * *", tick.Minute(), tick.Hour())
	fmt.Printf("bench: %d contracts, cron %q (UTC): the tick is at %s\n", *n, cron, tick.Format(time.TimeOnly))

	st := store.New(stack.Pool, nil)
	t0 := time.Now()
	if err := seedFanoutContracts(ctx, st, *n, cron); err != nil {
		return err
	}
	fmt.Printf("bench: created %d parties and contracts in %s\n", *n+1, time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	if err := ingestPerContract(ctx, st, *n, *perContract, time.Now().UTC().Add(-2*time.Minute)); err != nil {
		return err
	}
	fmt.Printf("bench: ingested %d transactions (%d per contract) in %s\n", *n**perContract, *perContract, time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	if err := putSchedules(ctx, stack.APIURL, key, *n, *inFlight); err != nil {
		return err
	}
	fmt.Printf("bench: created %d schedules through PUT /v1/contracts/{id}/schedule in %s\n", *n, time.Since(t0).Round(time.Millisecond))
	// A schedule created after its tick's time does not fire for it, so a
	// set-up that overran the allowance cannot be measured.
	if left := time.Until(tick); left < time.Second {
		return fmt.Errorf("fanout: set-up finished %s before the tick; raise -lead", left.Round(time.Millisecond))
	}
	fmt.Printf("bench: waiting %s for the tick ...\n", time.Until(tick).Round(time.Second))
	select {
	case <-time.After(time.Until(tick)):
	case <-ctx.Done():
		return ctx.Err()
	}

	var prof *os.File
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }() // for the early returns; the normal path closes and checks it below
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		prof = f
	}
	mctx, mcancel := context.WithDeadline(ctx, tick.Add(*timeout))
	elapsed, err := waitFanout(mctx, stack, tick, *n)
	mcancel()
	if prof != nil {
		pprof.StopCPUProfile()
		if cerr := prof.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("writing the CPU profile: %w", cerr)
		}
	}
	if err != nil {
		return err
	}
	var firstRow, lastRow time.Time
	if err := stack.Pool.QueryRow(ctx, `SELECT min(created_at), max(created_at) FROM cycles WHERE period_end = $1`, tick).Scan(&firstRow, &lastRow); err != nil {
		return err
	}
	fmt.Printf("bench: cycle rows appeared in the read model from tick+%s to tick+%s\n",
		firstRow.Sub(tick).Round(time.Millisecond), lastRow.Sub(tick).Round(time.Millisecond))
	fmt.Printf("bench: scheduled fan-out: %d contracts, one tick -> all %d cycles completed in %s, %.1f cycles/s (target: 1,000 in <= 60s)\n",
		*n, *n, elapsed.Round(time.Millisecond), float64(*n)/elapsed.Seconds())
	return nil
}

// seedFanoutContracts creates one operator and, per contract, its own
// provider and a contract on the given cron whose auto-approve limit is far
// above what a cycle here settles, so every cycle pays without a person.
func seedFanoutContracts(ctx context.Context, st *store.Store, n int, cron string) error {
	if _, err := st.CreateParty(ctx, tollgate.Party{ID: "op-1", Kind: "operator", Name: "Bench operator", Currency: "EUR"}); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		pv := fmt.Sprintf("pv-%d", i)
		if _, err := st.CreateParty(ctx, tollgate.Party{ID: pv, Kind: "provider", Name: "Bench " + pv, Currency: "EUR"}); err != nil {
			return err
		}
		var c tollgate.Contract
		raw := fmt.Sprintf(`{"id":"c-%d","operator_id":"op-1","provider_id":%q,"currency":"EUR","timezone":"UTC",
			"schedule":{"cron":%q},"grace_period":"0s",
			"terms":{"effective_from":"2020-01-01T00:00:00Z","revenue_share":[{"up_to":null,"rate":"0.10"}],
				"fee_per_charge":"0.01","minimum_guarantee":"0","cap":null,"carry_negative":true},
			"approval":{"auto_approve_limit":"1000000.00","approvals_required":1,"approval_timeout":"48h"},
			"payout":{"adapter":"simulated"}}`, i, pv, cron)
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return err
		}
		if _, err := st.CreateContract(ctx, c, "bench"); err != nil {
			return err
		}
		if (i+1)%250 == 0 && i+1 < n {
			fmt.Printf("bench: ... %d/%d contracts\n", i+1, n)
		}
	}
	return nil
}

// ingestPerContract ingests per charges for each of n providers, all before
// the tick, in batches of 1,000 rows.
func ingestPerContract(ctx context.Context, st *store.Store, n, per int, at time.Time) error {
	raws := make([]json.RawMessage, 0, 1000)
	flush := func() error {
		if len(raws) == 0 {
			return nil
		}
		res, err := st.Ingest(ctx, raws, "bench", "")
		if err != nil {
			return err
		}
		if len(res.Rejected) > 0 {
			return fmt.Errorf("ingest rejected rows: %v", res.Rejected)
		}
		raws = raws[:0]
		return nil
	}
	for i := 0; i < n; i++ {
		for j := 0; j < per; j++ {
			b, _ := json.Marshal(benchRow{ProviderID: fmt.Sprintf("pv-%d", i), OperatorID: "op-1",
				ExternalID: fmt.Sprintf("fan-%d", j), Kind: "charge", Amount: fmt.Sprintf("%d.00", 10*(j+1)),
				Currency: "EUR", OccurredAt: at.Add(-time.Duration(j) * time.Second).Format(time.RFC3339)})
			raws = append(raws, b)
			if len(raws) == cap(raws) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// putSchedules creates every contract's schedule over the API, inFlight
// requests at a time.
func putSchedules(ctx context.Context, base, key string, n, inFlight int) error {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: inFlight}}
	defer hc.CloseIdleConnections()
	var next, done atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, inFlight)
	for w := 0; w < inFlight; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("%s/v1/contracts/c-%d/schedule", base, i), nil)
				if err != nil {
					errc <- err
					return
				}
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := hc.Do(req)
				if err != nil {
					errc <- err
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errc <- fmt.Errorf("PUT schedule of c-%d: %s: %s", i, resp.Status, body)
					return
				}
				if d := done.Add(1); d%250 == 0 && int(d) < n {
					fmt.Printf("bench: ... %d/%d schedules\n", d, n)
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return ctx.Err()
	}
}

// waitFanout polls the cycles read model from the tick until all n cycles
// of the tick's period are completed, printing progress every 5 seconds.
// A cycle parked in needs_attention ends the run with its record.
func waitFanout(ctx context.Context, stack *devstack.Stack, tick time.Time, n int) (time.Duration, error) {
	lastPrint := time.Now()
	var rows, completed int
	for {
		var r, c, parked int
		err := stack.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = $2), count(*) FILTER (WHERE status = $3)
			FROM cycles WHERE period_end = $1`, tick, workflows.StatusCompleted, workflows.StatusNeedsAttention).Scan(&r, &c, &parked)
		now := time.Now()
		switch {
		case ctx.Err() != nil:
			// Report what the timeout cut short, from the last good poll.
			d := now.Sub(tick)
			fmt.Printf("bench: scheduled fan-out NOT finished: at tick+%s, %d/%d cycles begun, %d completed (%.1f cycles/s so far; target: 1,000 in <= 60s)\n",
				d.Round(time.Second), rows, n, completed, float64(completed)/d.Seconds())
			return 0, fmt.Errorf("fanout: stopped at the timeout: %w", ctx.Err())
		case err != nil:
			return 0, err
		}
		rows, completed = r, c
		if completed == n {
			return now.Sub(tick), nil
		}
		if parked > 0 {
			var id string
			var rec []byte
			_ = stack.Pool.QueryRow(ctx, `SELECT id, record FROM cycles WHERE period_end = $1 AND status = $2 LIMIT 1`,
				tick, workflows.StatusNeedsAttention).Scan(&id, &rec)
			return 0, fmt.Errorf("fanout: %d cycles parked in needs_attention, e.g. %s: %s", parked, id, rec)
		}
		if now.Sub(lastPrint) >= 5*time.Second {
			fmt.Printf("bench: ... tick+%s: %d/%d cycles begun, %d completed\n", now.Sub(tick).Round(time.Second), rows, n, completed)
			lastPrint = now
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

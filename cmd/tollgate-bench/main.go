// Command tollgate-bench measures Tollgate against baselines taken in the
// same run, on the machine it runs on, and prints what it measured.
//
//	tollgate-bench ingest [-n 200000] [-batch 1000] [-workers N]
//	tollgate-bench cycle  [-n 1000000] [-runs 5]
//	tollgate-bench fanout [-n 1000] [-tx 5] [-timeout 5m]
//
// ingest posts N transactions through POST /v1/transactions in batches and,
// in the same run and database server, COPYs the same rows into a bare table
// with the same primary key; it prints both rates and their ratio. cycle
// times a cycle over N transactions to awaiting_approval and auto-approved
// cycles to completed, on the real stack. fanout gives N contracts Temporal
// Schedules that share one cron tick and times the tick to all N cycles
// completed, on the dev stack.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/tollgate/tollgate/internal/pgserver"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tollgate-bench ingest|cycle|fanout [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "ingest":
		err = runIngest(ctx, os.Args[2:])
	case "cycle":
		err = runCycle(ctx, os.Args[2:])
	case "fanout":
		err = runFanout(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown benchmark %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tollgate-bench:", err)
		os.Exit(1)
	}
}

// database returns a database URL: DATABASE_URL when set (the database is
// used as is), otherwise a private cluster with PostgreSQL's default
// durability (fsync on), stopped on return.
func database(ctx context.Context, fs *flag.FlagSet) (url string, stop func(), err error) {
	if u := os.Getenv("BENCH_DATABASE_URL"); u != "" {
		return u, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "tollgate-bench-")
	if err != nil {
		return "", nil, err
	}
	fmt.Println("bench: starting a private PostgreSQL cluster (durable: fsync on) ...")
	srv, err := pgserver.Start(ctx, pgserver.Options{DataDir: filepath.Join(dir, "data")})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	if err := srv.EnsureDatabase(ctx, "bench"); err != nil {
		_ = srv.Stop() // already failing with err; the temporary cluster is removed next
		os.RemoveAll(dir)
		return "", nil, err
	}
	return srv.URL("bench"), func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: stopping PostgreSQL:", err)
		}
		os.RemoveAll(dir)
	}, nil
}

// machine describes where the benchmark ran.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				_, v, _ := strings.Cut(line, ":")
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1] + " kB RAM"
	}
	return fmt.Sprintf("%d CPUs (%s), %s, %s %s/%s", runtime.NumCPU(), model, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// rssMB is this process's resident set size.
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			_, _ = fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%f", &kb) // unparsable reads as 0, like a missing line
			return kb / 1024
		}
	}
	return 0
}

// Command testpg runs a command against a private, throw-away PostgreSQL
// cluster: it starts the cluster, runs the command with TEST_DATABASE_URL
// set, then stops the cluster and removes its files. `make test` uses it so
// every test package of one run shares one server (each test still gets its
// own database).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/tollgate/tollgate/internal/pgserver"
)

func main() {
	os.Exit(run())
}

func run() int {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: testpg [--] command [args...]")
		return 2
	}
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		fmt.Fprintln(os.Stderr, "testpg: using TEST_DATABASE_URL from the environment")
		return runCmd(args, nil)
	}
	dir, err := os.MkdirTemp("", "tollgate-testpg-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testpg:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(os.Stderr, "testpg: starting a private PostgreSQL cluster for this test run ...")
	srv, err := pgserver.Start(context.Background(), pgserver.Options{
		DataDir: filepath.Join(dir, "data"), Fast: true, Log: logFile(dir),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "testpg:", err)
		return 1
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testpg: stopping PostgreSQL:", err)
		}
	}()
	fmt.Fprintf(os.Stderr, "testpg: PostgreSQL on 127.0.0.1:%d\n", srv.Port())
	return runCmd(args, []string{"TEST_DATABASE_URL=" + srv.URL("postgres")})
}

func runCmd(args, env []string) int {
	cmd := exec.Command(args[0], args[1:]...) //nolint:gosec // G204: running the given command is testpg's job
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testpg:", err)
		return 1
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "testpg:", err)
		return 1
	}
	return 0
}

func logFile(dir string) *os.File {
	f, err := os.Create(filepath.Join(dir, "postgres.log")) //nolint:gosec // G304: a file in testpg's own temporary directory
	if err != nil {
		return nil
	}
	return f
}

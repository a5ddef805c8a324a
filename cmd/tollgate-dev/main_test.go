package main

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate/tollgate/internal/pgserver"
	"github.com/tollgate/tollgate/internal/testwait"
)

// TestDevStackLifecycle runs the real tollgate-dev binary twice on the same
// data directory: it must come up, answer /readyz and serve the Temporal UI,
// stop on SIGINT without leaving PostgreSQL behind, and start again on the
// same data.
func TestDevStackLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the full dev stack twice")
	}
	bin := filepath.Join(t.TempDir(), "tollgate-dev")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	data := t.TempDir()

	for run := 1; run <= 2; run++ {
		ports := freePorts(t, 4)
		env := append(os.Environ(),
			"TOLLGATE_DATA_DIR="+data,
			"TOLLGATE_API_ADDR=127.0.0.1:"+strconv.Itoa(ports[0]),
			"TOLLGATE_TEMPORAL_PORT="+strconv.Itoa(ports[1]),
			"TOLLGATE_UI_PORT="+strconv.Itoa(ports[2]),
			"TOLLGATE_PG_PORT="+strconv.Itoa(ports[3]),
		)
		cmd := exec.Command(bin)
		cmd.Env = env
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		up := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if strings.Contains(sc.Text(), "Admin API key") {
					up <- strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "Admin API key"))
				}
			}
		}()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var key string
		select {
		case key = <-up:
		case err := <-done:
			t.Fatalf("run %d: tollgate-dev exited during start-up: %v", run, err)
		case <-time.After(testwait.Scale(t, 90*time.Second)):
			_ = cmd.Process.Kill()
			t.Fatalf("run %d: dev stack did not come up", run)
		}
		require.True(t, strings.HasPrefix(key, "tg_"), key)
		stored, err := os.ReadFile(filepath.Join(data, "admin-key"))
		require.NoError(t, err)
		require.Equal(t, key, strings.TrimSpace(string(stored)), "the generated admin key is kept for the next run")

		requireStatus(t, "http://127.0.0.1:"+strconv.Itoa(ports[0])+"/readyz", http.StatusOK)
		requireStatus(t, "http://127.0.0.1:"+strconv.Itoa(ports[2])+"/", http.StatusOK)

		pgPid := postmasterPid(t, filepath.Join(data, "postgres"))
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		select {
		case err := <-done:
			require.NoError(t, err, "run %d: clean exit on Ctrl-C", run)
		case <-time.After(testwait.Scale(t, 60*time.Second)):
			_ = cmd.Process.Kill()
			t.Fatalf("run %d: did not stop within %s of SIGINT", run, testwait.Scale(t, 60*time.Second))
		}
		require.Error(t, syscall.Kill(pgPid, 0), "run %d: PostgreSQL (pid %d) must be gone", run, pgPid)
		_, err = os.Stat(filepath.Join(data, "postgres", "postmaster.pid"))
		require.True(t, os.IsNotExist(err), "PostgreSQL shut down cleanly")
	}
}

func TestTakenPortFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	t.Setenv("TOLLGATE_DATA_DIR", t.TempDir())
	t.Setenv("TOLLGATE_API_ADDR", "127.0.0.1:0")
	t.Setenv("TOLLGATE_TEMPORAL_PORT", strconv.Itoa(port))
	start := time.Now()
	err = run()
	require.Error(t, err)
	require.Contains(t, err.Error(), strconv.Itoa(port))
	require.Contains(t, err.Error(), "TOLLGATE_TEMPORAL_PORT")
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestBadPortEnv(t *testing.T) {
	t.Setenv("TOLLGATE_UI_PORT", "eighty")
	_, err := loadConfig()
	require.ErrorContains(t, err, "TOLLGATE_UI_PORT")
}

func freePorts(t *testing.T, n int) []int {
	ports := make([]int, n)
	for i := range ports {
		p, err := pgserver.FreePort()
		require.NoError(t, err)
		ports[i] = p
	}
	return ports
}

func requireStatus(t *testing.T, url string, want int) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, want, resp.StatusCode, url)
}

func postmasterPid(t *testing.T, dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)
	return pid
}

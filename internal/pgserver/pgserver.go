// Package pgserver runs a private PostgreSQL cluster from the machine's
// PostgreSQL server binaries. The dev stack and the test helper use it so that
// a fresh machine needs nothing started by hand.
//
// PostgreSQL refuses to run as root, so when this process is root the cluster
// is created and run as the unprivileged "postgres" user (or the user named in
// Options.RunAs). The server runs as a child process that dies with its parent
// (Pdeathsig), so an interrupted run leaves nothing behind.
package pgserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configure a private cluster.
type Options struct {
	DataDir string // cluster directory; created with initdb when empty
	Port    int    // TCP port on 127.0.0.1; 0 picks a free one
	User    string // superuser name created by initdb (default "tollgate")
	RunAs   string // OS user when running as root (default "postgres")
	// Fast trades durability for speed (fsync off); for tests only.
	Fast bool
	// Log receives the server's log lines; nil discards them.
	Log io.Writer
}

// Server is a running private cluster.
type Server struct {
	opts Options
	cmd  *exec.Cmd
	done chan error
}

// ErrNoBinaries is returned when no PostgreSQL server binaries are installed.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, postgres) not found")

// BinDir finds the directory holding initdb and postgres: $PG_BIN, then PATH,
// then the newest /usr/lib/postgresql/<version>/bin.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil { //nolint:gosec // G703: PG_BIN is the operator's own setting
			return d, nil
		}
		return "", fmt.Errorf("PG_BIN=%s has no postgres binary", d)
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// EnsureBinaries finds the server binaries, installing Debian's postgresql
// package when running as root on a machine with apt-get. Otherwise it
// returns an error that says exactly what to install.
func EnsureBinaries(ctx context.Context, progress io.Writer) (string, error) {
	if d, err := BinDir(); err == nil {
		return d, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		return "", fmt.Errorf("%w: install PostgreSQL 15 or newer (Debian/Ubuntu: `sudo apt-get install -y postgresql`), "+
			"set PG_BIN to its bin directory, or set DATABASE_URL to an existing database", ErrNoBinaries)
	}
	fmt.Fprintln(progress, "pgserver: PostgreSQL server binaries missing; installing Debian package postgresql ...")
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...) //nolint:gosec // G204: fixed apt-get arguments from the list above
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = progress, progress
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
		}
	}
	return BinDir()
}

// Start creates the cluster when needed and starts the server. It returns
// once the server accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.User == "" {
		opts.User = "tollgate"
	}
	if opts.RunAs == "" {
		opts.RunAs = "postgres"
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	bin, err := EnsureBinaries(ctx, opts.Log)
	if err != nil {
		return nil, err
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	opts.DataDir = dataDir
	cred, err := credential(opts.RunAs)
	if err != nil {
		return nil, err
	}
	if err := initCluster(ctx, bin, opts, cred); err != nil {
		return nil, err
	}
	if opts.Port == 0 {
		if opts.Port, err = FreePort(); err != nil {
			return nil, err
		}
	} else if err := PortFree(opts.Port); err != nil {
		return nil, fmt.Errorf("PostgreSQL port %d: %w", opts.Port, err)
	}
	if err := removeStalePid(opts.DataDir); err != nil {
		return nil, err
	}
	args := []string{
		"-D", opts.DataDir,
		"-p", strconv.Itoa(opts.Port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=200",
		"-c", "shared_buffers=256MB",
		"-c", "logging_collector=off",
	}
	if opts.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...) //nolint:gosec // G204: the postgres binary found by BinDir, with this package's arguments
	cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
	// SIGINT is PostgreSQL's fast shutdown: if this process dies the server
	// stops cleanly instead of lingering.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT, Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &Server{opts: opts, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// URL is a connection string for the given database on this server.
func (s *Server) URL(database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", s.opts.User, s.opts.Port, database)
}

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.opts.Port }

// User is the superuser name.
func (s *Server) User() string { return s.opts.User }

// Stop shuts the server down (fast shutdown) and waits for it to exit.
func (s *Server) Stop() error {
	if s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done: //nolint:errcheck // the exit status of a shutdown we asked for adds nothing
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done //nolint:errcheck // the exit status is our kill; the error below says so
		return errors.New("postgres did not stop within 30s; killed")
	}
}

// EnsureDatabase creates the database when it does not exist.
func (s *Server) EnsureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("postgres exited during start-up (%v); see its log", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, s.URL("postgres"))
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("postgres not ready after 60s: %v", lastErr)
}

func initCluster(ctx context.Context, bin string, opts Options, cred *syscall.Credential) error {
	if _, err := os.Stat(filepath.Join(opts.DataDir, "PG_VERSION")); err == nil {
		return chownTree(opts.DataDir, cred)
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return err
	}
	if err := chownTree(opts.DataDir, cred); err != nil {
		return err
	}
	if err := ensureTraversable(opts.DataDir, cred); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), //nolint:gosec // G204: the initdb binary found by BinDir, with this package's arguments
		"-D", opts.DataDir, "-U", opts.User, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", opts.DataDir, err, out)
	}
	return nil
}

// credential returns the OS identity to run PostgreSQL as: nil (this
// process's own) unless running as root.
func credential(runAs string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(runAs)
	if err != nil {
		return nil, fmt.Errorf("running as root: PostgreSQL must run as an unprivileged user and user %q does not exist "+
			"(create it with `useradd --system %s`): %w", runAs, runAs, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil //nolint:gosec // G115: ids parsed from the user database, which are 32-bit
}

func chownTree(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid)) //nolint:gosec // G122: the server's own data dir, which nothing else writes while it starts
	})
}

// ensureTraversable makes sure the unprivileged user can reach the data
// directory through its parents (temporary directories are often 0700).
func ensureTraversable(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	for p := filepath.Dir(dir); p != "/" && p != "."; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o011); err != nil {
				return fmt.Errorf("make %s traversable for the postgres user: %w", p, err)
			}
		}
	}
	return nil
}

// removeStalePid deletes postmaster.pid left by a server that was killed,
// when the process it names is gone.
func removeStalePid(dataDir string) error {
	f, err := os.Open(filepath.Join(dataDir, "postmaster.pid")) //nolint:gosec // G304: the pid file in the server's own data dir
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	sc.Scan()
	_ = f.Close() // read-only: nothing to lose
	pid, _ := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if pid > 0 && syscall.Kill(pid, 0) == nil {
		return fmt.Errorf("a PostgreSQL server (pid %d) is already running on %s; stop it first", pid, dataDir)
	}
	return os.Remove(filepath.Join(dataDir, "postmaster.pid"))
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PortFree reports an error naming the port when it is already taken.
func PortFree(port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d is already in use", port)
	}
	return l.Close()
}

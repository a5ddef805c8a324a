// Package devtemporal runs an in-process Temporal server (SQLite persistence)
// and, optionally, the Temporal Web UI. The dev stack uses it with a SQLite
// file under .data/; the end-to-end tests use it in memory on random ports.
// Production uses a real Temporal cluster and never links this package.
package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	"github.com/tollgate/tollgate/internal/pgserver"
)

// Options configure the embedded server.
type Options struct {
	// DatabaseFile is the SQLite file; empty means in memory (tests).
	DatabaseFile string
	// FrontendPort is the gRPC frontend port on 127.0.0.1; 0 picks one.
	FrontendPort int
	// UIPort serves the Temporal Web UI when > 0.
	UIPort int
	// Namespace is created at start (default "default").
	Namespace string
	// SearchAttributes are registered at start (idempotent).
	SearchAttributes map[string]enumspb.IndexedValueType
	// Logger receives the server's warnings and errors.
	Logger *slog.Logger
}

// Server is a running embedded Temporal server.
type Server struct {
	opts     Options
	server   temporal.Server
	ui       *uiserver.Server
	uiDone   chan struct{}
	hostPort string
}

// Start boots the server, creates the namespace and registers the search
// attributes. It fails fast, naming the port, when a port is taken.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var err error
	if opts.FrontendPort == 0 {
		if opts.FrontendPort, err = pgserver.FreePort(); err != nil {
			return nil, err
		}
	} else if err := pgserver.PortFree(opts.FrontendPort); err != nil {
		return nil, fmt.Errorf("Temporal frontend: %w (set TOLLGATE_TEMPORAL_PORT to use another)", err) //nolint:staticcheck // ST1005: Temporal is a proper noun
	}
	if opts.UIPort > 0 {
		if err := pgserver.PortFree(opts.UIPort); err != nil {
			return nil, fmt.Errorf("Temporal UI: %w (set TOLLGATE_UI_PORT to use another)", err) //nolint:staticcheck // ST1005: Temporal is a proper noun
		}
	}
	ports := make([]int, 4) // frontend HTTP, history, matching, worker
	for i := range ports {
		if ports[i], err = pgserver.FreePort(); err != nil {
			return nil, err
		}
	}
	conf, err := serverConfig(opts, ports)
	if err != nil {
		return nil, err
	}
	logger := slogLogger{l: opts.Logger}
	host := func(p int) static.Hosts { return static.SingleLocalHost("127.0.0.1:" + strconv.Itoa(p)) }
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key():      true,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 500,
		// The dev stack and tests run many short cycles; keep namespace
		// cache and visibility fresh so the UI and tests see them at once.
		dynamicconfig.NamespaceCacheRefreshInterval.Key(): time.Second,
		// Every contract's schedule may tick at the same minute (month end,
		// 06:00); let the scheduler start more than the default 30
		// workflows a second so a fan-out of 1,000 is not throttled here.
		dynamicconfig.SchedulerNamespaceStartWorkflowRPS.Key(): 200.0,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: host(opts.FrontendPort),
			primitives.HistoryService:  host(ports[1]),
			primitives.MatchingService: host(ports[2]),
			primitives.WorkerService:   host(ports[3]),
		}),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("temporal server start: %w", err)
	}
	s := &Server{opts: opts, server: srv, hostPort: fmt.Sprintf("127.0.0.1:%d", opts.FrontendPort)}
	if err := s.registerSearchAttributes(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	if opts.UIPort > 0 {
		if err := s.startUI(ctx); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// HostPort is the gRPC frontend address.
func (s *Server) HostPort() string { return s.hostPort }

// Namespace is the namespace created at start.
func (s *Server) Namespace() string { return s.opts.Namespace }

// UIURL is the Web UI address, or "" when the UI is off.
func (s *Server) UIURL() string {
	if s.ui == nil {
		return ""
	}
	return fmt.Sprintf("http://127.0.0.1:%d", s.opts.UIPort)
}

// Stop stops the UI and the server.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
		<-s.uiDone
	}
	_ = s.server.Stop() // this Stop has no error to return, and a failed shutdown of a dev or test server changes nothing
}

func serverConfig(opts Options, ports []int) (*config.Config, error) {
	sqlConf := &config.SQL{PluginName: sqliteplugin.PluginName}
	if opts.DatabaseFile == "" {
		sqlConf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		sqlConf.DatabaseName = "tollgate-" + strconv.FormatUint(rand.Uint64(), 36) //nolint:gosec // G404: only keeps in-memory database names apart, not a secret
	} else {
		// Keys other than SQLite URI parameters become PRAGMAs. WAL with
		// synchronous=NORMAL survives a crash of this process (the dev
		// stack's case); only a power loss could drop the last commits.
		sqlConf.ConnectAttributes = map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "1"}
		sqlConf.DatabaseName = opts.DatabaseFile
		if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o755); err != nil { //nolint:gosec // G301: the dev stack's data dir, readable like the rest of it
				return nil, err
			}
			if err := sqliteschema.SetupSchema(sqlConf); err != nil {
				return nil, fmt.Errorf("temporal sqlite schema: %w", err)
			}
		}
	}
	// In memory mode the SQLite plugin creates the schema itself.
	ns, err := sqliteschema.NewNamespaceConfig("active", opts.Namespace, false, nil)
	if err != nil {
		return nil, err
	}
	if err := sqliteschema.CreateNamespaces(sqlConf, ns); err != nil {
		return nil, fmt.Errorf("temporal namespace %q: %w", opts.Namespace, err)
	}

	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = "127.0.0.1"
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        "active",
		CurrentClusterName:       "active",
		ClusterInformation: map[string]cluster.ClusterInformation{
			"active": {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             fmt.Sprintf("127.0.0.1:%d", opts.FrontendPort),
				HTTPAddress:            fmt.Sprintf("127.0.0.1:%d", ports[0]),
				ClusterID:              "6d1f6f8e-5a43-4c8e-9d55-7f0c2b6a1e01", // fixed: the SQLite file remembers it
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	svc := func(grpc, http int) config.Service {
		var c config.Service
		c.RPC.GRPCPort, c.RPC.HTTPPort, c.RPC.BindOnIP = grpc, http, "127.0.0.1"
		return c
	}
	conf.Services = map[string]config.Service{
		"frontend": svc(opts.FrontendPort, ports[0]),
		"history":  svc(ports[1], 0),
		"matching": svc(ports[2], 0),
		"worker":   svc(ports[3], 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = fmt.Sprintf("127.0.0.1:%d", opts.FrontendPort)
	return &conf, nil
}

// registerSearchAttributes adds the custom search attributes, skipping those
// that already exist (a second start on the same SQLite file).
func (s *Server) registerSearchAttributes(ctx context.Context) error {
	if len(s.opts.SearchAttributes) == 0 {
		return nil
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: s.hostPort, Namespace: s.opts.Namespace,
		Logger: noSDKLog{}})
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s.opts.Namespace})
		if err == nil {
			missing := map[string]enumspb.IndexedValueType{}
			for name, typ := range s.opts.SearchAttributes {
				if _, ok := existing.CustomAttributes[name]; !ok {
					missing[name] = typ
				}
			}
			if len(missing) == 0 {
				return nil
			}
			_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
				Namespace: s.opts.Namespace, SearchAttributes: missing,
			})
			var exists *serviceerror.AlreadyExists
			if err == nil || errors.As(err, &exists) {
				continue
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("register search attributes: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) startUI(ctx context.Context) error {
	s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                "127.0.0.1",
		Port:                s.opts.UIPort,
		TemporalGRPCAddress: s.hostPort,
		EnableUI:            true,
		DefaultNamespace:    s.opts.Namespace,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
	s.uiDone = make(chan struct{})
	go func() {
		defer close(s.uiDone)
		_ = s.ui.Start()
	}()
	url := s.UIURL() + "/"
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url) //nolint:gosec // G107: polls the local UI address this package started
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("Temporal UI did not come up on %s", url) //nolint:staticcheck // ST1005: Temporal is a proper noun
}

// slogLogger adapts the server's tagged logger to slog.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Debug(msg string, tags ...tag.Tag) { s.log(slog.LevelDebug, msg, tags) }
func (s slogLogger) Info(msg string, tags ...tag.Tag)  { s.log(slog.LevelInfo, msg, tags) }
func (s slogLogger) Warn(msg string, tags ...tag.Tag)  { s.log(slog.LevelWarn, msg, tags) }
func (s slogLogger) Error(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }
func (s slogLogger) DPanic(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
}
func (s slogLogger) Panic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }
func (s slogLogger) Fatal(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// log forwards errors always, and everything else only when the caller's
// logger is at debug level: the server is chatty about normal shutdowns.
func (s slogLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	if level < slog.LevelError && !s.l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	if !s.l.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, len(tags))
	for i, t := range tags {
		attrs[i] = slog.Any(t.Key(), t.Value())
	}
	s.l.LogAttrs(context.Background(), level, msg, attrs...)
}

var _ log.Logger = slogLogger{}

type noSDKLog struct{}

func (noSDKLog) Debug(string, ...any) {}
func (noSDKLog) Info(string, ...any)  {}
func (noSDKLog) Warn(string, ...any)  {}
func (noSDKLog) Error(string, ...any) {}

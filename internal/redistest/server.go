package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SkipUnlessReal skips t unless a real Redis was asked for, with REDIS_ADDR
// or REDIS_CLUSTER_ADDRS. Tests that start their own redis-server call it,
// so that `go test ./...` on a machine without Redis runs the miniredis
// tests only; once a real Redis is asked for (as .ci/run does), a missing
// redis-server binary fails them.
func SkipUnlessReal(t testing.TB) {
	t.Helper()
	if os.Getenv("REDIS_ADDR") == "" && os.Getenv("REDIS_CLUSTER_ADDRS") == "" {
		t.Skip("starts its own redis-server; runs when REDIS_ADDR or REDIS_CLUSTER_ADDRS is set, as in .ci/run")
	}
}

// SkipUnlessCluster skips t unless a Redis Cluster was asked for with
// REDIS_CLUSTER_ADDRS. Cluster tests that start their own cluster call it;
// once asked, a missing redis-server binary fails them.
func SkipUnlessCluster(t testing.TB) {
	t.Helper()
	if len(ClusterAddrs()) == 0 {
		t.Skip("starts its own Redis Cluster; runs when REDIS_CLUSTER_ADDRS is set, as in .ci/run")
	}
}

// startTimeout bounds how long a redis-server may take to answer PING.
const startTimeout = 10 * time.Second

// Server is a redis-server process that a test started on a free local port,
// with its own working directory. It is killed when the test ends. Its
// methods fail the test on errors and are safe for concurrent use.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	args []string
	conf string // path of a configuration file passed first, or ""

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// StartServer starts redis-server on 127.0.0.1 and a free port, without
// persistence unless args (redis-server command-line options such as
// "--appendonly", "yes") say otherwise, and waits until it answers PING.
// It fails t when redis-server is not installed or does not start.
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	return startServer(t, "", args...)
}

// startServer is StartServer with a configuration file: when conf is not
// empty it is written to the server's directory and passed first, where
// redis-server wants it (a sentinel needs one it can rewrite).
func startServer(t testing.TB, conf string, args ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("this test starts its own Redis and needs redis-server in PATH: %v", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), args: args}
	if conf != "" {
		s.conf = filepath.Join(s.dir, "redis.conf")
		if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(s.cleanup)
	var lastErr error
	for range 5 { // another process may take the free port first
		if s.port, lastErr = freePort(); lastErr != nil {
			continue
		}
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Addr is the server's host:port, the same across Stop and Start.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// Backend describes the server as a single-node Backend.
func (s *Server) Backend() Backend { return Backend{Name: "redis-server", Addr: s.Addr()} }

// Client returns a client for the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// start runs the process, with extra options added to its own for this run
// only, and waits until it answers PING.
func (s *Server) start(extra ...string) error {
	base := []string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--protected-mode", "no",
		"--dir", s.dir, "--logfile", "redis.log", "--daemonize", "no",
		"--save", "", "--appendonly", "no",
	}
	argv := append(append(base, s.args...), extra...)
	if s.conf != "" {
		argv = append([]string{s.conf}, argv...)
	}
	cmd := exec.Command(s.bin, argv...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("redis-server on port %d exited at start: %s", s.port, s.logTail())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("redis-server on port %d did not answer PING within %v: %v", s.port, startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logTail returns the end of the server's log file.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Start starts the server again on the same port and directory, with the
// same options, after Stop or Kill: what it finds in its directory (an AOF
// or RDB file, when the options enabled persistence) it loads.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Stop asks the server to shut down (SIGTERM: it writes its persistence
// files, if any, as on a clean shutdown) and waits until it has exited.
func (s *Server) Stop() {
	s.t.Helper()
	s.signal(sigTerm)
	s.wait()
}

// Kill kills the server (SIGKILL: no shutdown, nothing saved) and waits
// until it has exited.
func (s *Server) Kill() {
	s.t.Helper()
	s.kill()
}

// Pause stops the process without closing its connections (SIGSTOP), like a
// server that hangs: clients connect and wait for replies that do not come.
func (s *Server) Pause() {
	s.t.Helper()
	s.signal(sigStop)
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() {
	s.t.Helper()
	s.signal(sigCont)
}

// Pid is the process id of the running server.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

func (s *Server) signal(sig os.Signal) {
	s.t.Helper()
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v to redis-server on port %d: %v", sig, s.port, err)
	}
}

// wait waits for the process to exit, at most startTimeout.
func (s *Server) wait() {
	s.t.Helper()
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	select {
	case <-exited:
	case <-time.After(startTimeout):
		s.t.Fatalf("redis-server on port %d did not exit", s.port)
	}
}

// kill ends the process, paused or not, and waits for it.
func (s *Server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Kill()
	<-exited
}

// cleanup kills the process if it still runs.
func (s *Server) cleanup() {
	s.kill()
	if s.t.Failed() {
		s.t.Logf("log of redis-server on port %d:\n%s", s.port, s.logTail())
	}
}

// StartReplicated starts a primary and one replica of it, as StartServer
// does, and waits until the replica acknowledges writes (see
// WaitWriteAcked), so that a WAIT for one replica succeeds at once.
func StartReplicated(t testing.TB) (primary, replica *Server) {
	t.Helper()
	primary = StartServer(t, "--repl-diskless-sync-delay", "0")
	replica = StartServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := WaitWriteAcked(ctx, primary.Client(), "redistest:ack"); err != nil {
		t.Fatalf("replica %s of %s: %v", replica.Addr(), primary.Addr(), err)
	}
	return primary, replica
}

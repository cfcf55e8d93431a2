package chaos

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// netFault sits in one instance's go-redis client, as its Dialer, between
// the client and every Redis node and sentinel it talks to: a proxy on the
// instance's side of the network. It can delay every read (a slow link) or
// drop every connection and refuse new ones (a partition). Working on the
// dialer rather than on an address, it follows the client to whichever
// node Sentinel or the Cluster slot map names.
type netFault struct {
	delay atomic.Int64 // nanoseconds before each read

	mu    sync.Mutex
	down  bool
	conns map[*faultConn]struct{}
}

// errDropped is what dials fail with while the link is down.
var errDropped = errors.New("chaos: connection dropped by the injected partition")

func newNetFault() *netFault { return &netFault{conns: map[*faultConn]struct{}{}} }

// dial is the go-redis Dialer.
func (f *netFault) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return nil, errDropped
	}
	d := net.Dialer{Timeout: 2 * time.Second, KeepAlive: 5 * time.Minute}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	fc := &faultConn{Conn: c, f: f}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		_ = c.Close()
		return nil, errDropped
	}
	f.conns[fc] = struct{}{}
	return fc, nil
}

// setDelay delays each read by d from now on; 0 stops delaying.
func (f *netFault) setDelay(d time.Duration) { f.delay.Store(int64(d)) }

// drop closes every connection and fails dials until restore.
func (f *netFault) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = true
	for c := range f.conns {
		_ = c.Conn.Close()
	}
}

// restore lets dials through again.
func (f *netFault) restore() {
	f.mu.Lock()
	f.down = false
	f.mu.Unlock()
}

// faultConn is a connection whose reads netFault may delay.
type faultConn struct {
	net.Conn
	f            *netFault
	readDeadline atomic.Int64 // unix nanoseconds; 0 for none
	closed       atomic.Bool
}

// Read waits the injected delay first, but never past the read deadline:
// a client that set one sees a timeout at it, as behind a slow link.
func (c *faultConn) Read(b []byte) (int, error) {
	if d := time.Duration(c.f.delay.Load()); d > 0 {
		if dl := c.readDeadline.Load(); dl != 0 {
			if left := time.Until(time.Unix(0, dl)); left < d {
				time.Sleep(max(left, 0))
				return 0, os.ErrDeadlineExceeded
			}
		}
		time.Sleep(d)
	}
	return c.Conn.Read(b)
}

// SyscallConn exposes the socket, as the connection it wraps does, so that
// go-redis' health check of pooled connections (a non-blocking peek) works
// as without the fault injector.
func (c *faultConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("chaos: connection without a socket")
	}
	return sc.SyscallConn()
}

// SetDeadline records the read deadline too.
func (c *faultConn) SetDeadline(t time.Time) error {
	c.storeDeadline(t)
	return c.Conn.SetDeadline(t)
}

// SetReadDeadline records the read deadline.
func (c *faultConn) SetReadDeadline(t time.Time) error {
	c.storeDeadline(t)
	return c.Conn.SetReadDeadline(t)
}

func (c *faultConn) storeDeadline(t time.Time) {
	if t.IsZero() {
		c.readDeadline.Store(0)
	} else {
		c.readDeadline.Store(t.UnixNano())
	}
}

// Close closes the connection and forgets it.
func (c *faultConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.f.mu.Lock()
		delete(c.f.conns, c)
		c.f.mu.Unlock()
	}
	return c.Conn.Close()
}

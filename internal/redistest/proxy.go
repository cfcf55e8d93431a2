package redistest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy in front of a Redis server that a test can take down
// and bring back on the same address, to simulate an unreachable store
// without disturbing the server itself, slow down, to simulate a slow one, or
// hold, to stall a replica's replication stream.
type Proxy struct {
	t      testing.TB
	target string
	addr   string
	delay  atomic.Int64 // nanoseconds each reply is held back

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]struct{}
	down    chan struct{} // closed by Down: held replies are dropped
	release chan struct{} // non-nil while Hold is on; closed by Release
}

// NewProxy starts a proxy to target on a free local port. It is closed when
// the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.Down)
	return p
}

// Addr is the proxy's address, stable across Down and Up.
func (p *Proxy) Addr() string { return p.addr }

// Down closes the listener and every open connection: clients see the store
// as unreachable.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	if p.down != nil {
		close(p.down)
		p.down = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
}

// SetDelay holds every chunk of the server's replies back for d before
// passing it on, from now on, on open and new connections; 0 stops delaying.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Hold stops passing the server's replies on, from now on, on open and new
// connections: what the proxy reads from the server it keeps, until Release
// passes it on or Down drops it. Requests still reach the server. In front
// of a primary that a replica replicates from, it stalls the replica
// deterministically: the primary has sent the stream, and the replica has
// not received it, nor will if the proxy goes down.
func (p *Proxy) Hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.release == nil {
		p.release = make(chan struct{})
	}
}

// Release passes on what Hold kept, and ends it.
func (p *Proxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.release != nil {
		close(p.release)
		p.release = nil
	}
}

// Up listens again on the same address.
func (p *Proxy) Up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy relisten on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	down := make(chan struct{})
	p.down = down
	p.mu.Unlock()
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = client.Close()
				continue
			}
			if !p.track(client, server) {
				return
			}
			go p.pipe(server, client, nil, nil)
			go p.pipe(client, server, &p.delay, down)
		}
	}()
}

// track records a connection pair unless the proxy went down meanwhile.
func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies src to dst until either closes, holding each chunk back for
// *delay when delay is not nil, and while Hold is on, until down is closed.
func (p *Proxy) pipe(dst, src net.Conn, delay *atomic.Int64, down <-chan struct{}) {
	if delay == nil {
		_, _ = io.Copy(dst, src)
	} else {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if d := time.Duration(delay.Load()); d > 0 {
					time.Sleep(d)
				}
				if !p.waitRelease(down) {
					break
				}
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
	}
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// waitRelease waits while Hold is on; it returns false if the proxy went
// down meanwhile, when what was held is to be dropped.
func (p *Proxy) waitRelease(down <-chan struct{}) bool {
	p.mu.Lock()
	release := p.release
	p.mu.Unlock()
	if release == nil {
		return true
	}
	select {
	case <-release:
		return true
	case <-down:
		return false
	}
}

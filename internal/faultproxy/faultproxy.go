// Package faultproxy is a TCP proxy for tests that can cut its connections
// (as a database server that restarts does) or freeze them (as a network
// partition does), so that a test sees what a client does through an
// outage without stopping a shared server.
package faultproxy

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a server and can cut them (close
// every connection and refuse new ones, as a server restarting does) or
// freeze them (keep them open and forward nothing, as a network partition
// does).
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	mode   string // "", "cut" or "freeze"
	conns  []net.Conn
	frozen chan struct{} // closed when the freeze ends
}

// New listens on a loopback port and forwards what connects there to
// target (host:port); the test's cleanup closes it.
func New(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, frozen: make(chan struct{})}
	close(p.frozen)
	go p.serve()
	tb.Cleanup(func() { ln.Close(); p.set("cut"); p.set("") })
	return p
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		if mode == "cut" {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, s)
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			p.mu.Lock()
			frozen := p.frozen
			p.mu.Unlock()
			<-frozen // a frozen link holds what it read
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	go pipe(s, c)
	pipe(c, s)
}

// Cut closes every connection and refuses new ones, as a server that
// restarts does.
func (p *Proxy) Cut() { p.set("cut") }

// Freeze keeps the connections open and forwards nothing more on them or
// on new ones, as a network partition does.
func (p *Proxy) Freeze() { p.set("freeze") }

// Forward forwards again after Cut or Freeze: what a frozen link held goes
// through.
func (p *Proxy) Forward() { p.set("") }

func (p *Proxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == "freeze" {
		close(p.frozen)
	}
	p.mode = mode
	switch mode {
	case "cut":
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	case "freeze":
		p.frozen = make(chan struct{})
	}
}

// Through returns target's URL with its host and port replaced by the
// proxy's.
func (p *Proxy) Through(tb testing.TB, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

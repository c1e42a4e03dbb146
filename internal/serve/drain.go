package serve

import (
	"net"
	"sync/atomic"
	"time"
)

// Graceful shutdown without losing a request on a keep-alive connection.
// When shutdown starts, fasthttp closes the listener, marks every answer
// Connection: close, and closes connections it sees idle. A request can
// arrive on an idle connection just then: its bytes may already be read
// when the connection is closed under it, so the server would take a
// request and never answer it. drainConn closes that gap: while the server
// drains, a close of a connection whose request bytes have been read but
// not yet answered waits for the answer (the connection's own goroutine
// then closes it, as the answer says Connection: close), and bytes that
// arrive after a close are discarded unread, so the client sees a
// connection closed before its request was read, which it may safely
// retry. Every request is either answered or never read.

// drainListener wraps accepted connections in drainConn.
type drainListener struct {
	net.Listener
	s *Server
}

// Accept implements net.Listener.
func (l drainListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &drainConn{Conn: c, s: l.s}, nil
}

// drainConn states (bits).
const (
	connPending  = 1 << iota // request bytes read, answer not yet written
	connDeferred             // a close arrived while pending: wait for the answer
	connClosed               // closed: bytes read from now on are discarded
)

// drainDeferLimit bounds how long a deferred close waits for its answer.
const drainDeferLimit = 35 * time.Second

// drainConn is a connection whose close during shutdown waits for the
// answer to a request already read.
type drainConn struct {
	net.Conn
	s     *Server
	state atomic.Int32
}

// Read implements net.Conn.
func (c *drainConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	for {
		st := c.state.Load()
		if st&connClosed != 0 {
			return 0, net.ErrClosed // closed before this request was read
		}
		if st&connPending != 0 || c.state.CompareAndSwap(st, st|connPending) {
			return n, err
		}
	}
}

// Write implements net.Conn.
func (c *drainConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	for {
		st := c.state.Load()
		if st&connPending == 0 || c.state.CompareAndSwap(st, st&^connPending) {
			break
		}
	}
	return n, err
}

// Close implements net.Conn.
func (c *drainConn) Close() error {
	for {
		st := c.state.Load()
		if st&connClosed != 0 {
			return nil
		}
		if st&connPending != 0 && st&connDeferred == 0 && c.s.draining.Load() {
			// A request is being answered: let the answer go out. The
			// connection's goroutine closes it after the answer (its
			// second close); a timer bounds the wait.
			if c.state.CompareAndSwap(st, st|connDeferred) {
				time.AfterFunc(drainDeferLimit, func() { c.closeNow() })
				return nil
			}
			continue
		}
		if c.state.CompareAndSwap(st, st|connClosed) {
			return c.Conn.Close()
		}
	}
}

// closeNow closes the connection whatever its state.
func (c *drainConn) closeNow() {
	for {
		st := c.state.Load()
		if st&connClosed != 0 {
			return
		}
		if c.state.CompareAndSwap(st, st|connClosed) {
			c.Conn.Close()
			return
		}
	}
}

//go:build unix && !aix

package store

import (
	"net"
	"syscall"
)

// peerSpoke reports whether the server has written to an idle connection
// or closed it: bytes or an end of stream wait in its socket, which a
// connection between queries never has unless the server terminated it
// (a restart, pg_terminate_backend: an error message, then the close). It
// peeks without blocking and consumes nothing; false when it cannot tell.
func peerSpoke(c net.Conn) bool {
	for {
		u, ok := c.(interface{ NetConn() net.Conn }) // TLS
		if !ok {
			break
		}
		c = u.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	spoke := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		spoke = err != syscall.EAGAIN && err != syscall.EWOULDBLOCK // data, the end of stream or a reset
		return true                                                 // never wait for the socket
	})
	return err == nil && spoke
}

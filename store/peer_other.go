//go:build !unix || aix

package store

import "net"

// peerSpoke cannot tell on this platform (not Unix, or AIX, whose syscall
// package has no MSG_DONTWAIT): a pooled connection is then
// checked only after a second idle, pgx's default.
func peerSpoke(net.Conn) bool { return false }

//go:build !unix

package store

import "net"

// peerSpoke cannot tell on this platform: a pooled connection is then
// checked only after a second idle, pgx's default.
func peerSpoke(net.Conn) bool { return false }

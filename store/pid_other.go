//go:build !unix

package store

// pidAlive cannot tell on this platform, so it reports every process alive:
// a crashed owner's run is then reclaimed only by the heartbeat rule.
func pidAlive(pid int) bool { return pid > 0 }

// pidNamespace: no pid namespaces on this platform.
func pidNamespace() string { return "" }

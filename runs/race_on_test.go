//go:build race

package runs

// raceBuild: the race detector slows training about twentyfold and
// delays goroutines by more under load, so tests that time heartbeats
// against training scale their margins by it.
const raceBuild = true

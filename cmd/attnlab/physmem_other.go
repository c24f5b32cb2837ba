//go:build !linux && !darwin

package main

// physicalMemory returns the machine's memory in bytes: 0 (unknown, so
// no default --max-memory) where attnlab has no way to ask.
func physicalMemory() float64 { return 0 }

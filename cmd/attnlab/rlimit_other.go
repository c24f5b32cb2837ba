//go:build !(linux || darwin || freebsd || netbsd || dragonfly)

package main

// memoryLimits returns no limits: this system has no ulimit -v or -d to
// read (Windows), or none read here.
func memoryLimits() []memoryLimit { return nil }

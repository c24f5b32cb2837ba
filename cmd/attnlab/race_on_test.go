//go:build race

package main

// raceBuild: the race detector reserves terabytes of address space, so a
// test under ulimit -v cannot run it.
const raceBuild = true

//go:build !linux && !darwin && !freebsd

package tensor

import "time"

var cpuClockStart = time.Now()

// threadCPU stands in for the calling thread's CPU time where attnlab has
// no per-thread clock: wall seconds, which count other jobs' time too.
func threadCPU() float64 { return time.Since(cpuClockStart).Seconds() }

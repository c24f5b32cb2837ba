//go:build !linux && !darwin && !freebsd

package attention

import (
	"testing"
	"time"
)

var cpuClockStart = time.Now()

// threadCPU stands in for the calling thread's CPU time where attnlab has
// no per-thread clock (Windows): wall seconds, which count other jobs'
// time too, so the benchmarks' cpu-ns/tile read high on a busy machine.
func threadCPU(*testing.B) float64 { return time.Since(cpuClockStart).Seconds() }

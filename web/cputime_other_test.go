//go:build !unix

package web

import "time"

var cpuClockStart = time.Now()

// cpuTime stands in for the process's CPU time where there is no getrusage
// (Windows): wall time, which counts other jobs' time too, so the
// benchmarks' cpu-ms figures read high on a busy machine.
func cpuTime() time.Duration { return time.Since(cpuClockStart) }

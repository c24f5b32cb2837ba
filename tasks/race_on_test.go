//go:build race

package tasks

// raceBuild: the race detector's instrumentation allocates beside the
// program, so allocation sizes measured under -race are not the
// program's.
const raceBuild = true

//go:build race

package runs

// raceBuild: the race detector slows training about twentyfold and
// delays goroutines by more under load, so tests that time heartbeats
// against training scale their margins by it.
const raceBuild = true

// raceSkipSerial is why a test skips under -race: it builds models and
// steps them with tensor's default single thread on the test's goroutine
// (no loop, store, pool or second thread is involved), so the race
// detector has nothing to watch, while it cost ~2 minutes of CI's race
// pass on 2 cores (the memory-estimate tests: 87 s and 29 s). CI runs it
// without -race in its main pass; the step's halves on two threads stay
// raced by TestStepHalvesEveryVariant (sequential, two threads) and, with
// the loop's goroutines, by TestCheckpointsDroppedWhenDone (one run through
// Execute, which gives it both cores of a 2-CPU machine: execThreads).
const raceSkipSerial = "builds and steps models on one goroutine with one thread (nothing for the race detector to watch); CI runs it without -race"

//go:build race

package layers_test

// raceBuild: under the race detector bytes.Buffer.Grow allocates its
// buffer twice (make, then append: the instrumented code does not fuse
// them), so tests that count allocated bytes skip their bound.
const raceBuild = true

// Package tensor holds attnlab's numeric core: float32 n-dimensional
// tensors in row-major order, the ops models are built from, and
// reverse-mode automatic differentiation.
//
// # Autodiff
//
// Parameters are leaf tensors marked with SetRequiresGrad(true). An op whose
// inputs include a tensor that requires gradients records those inputs and a
// backward closure on its result; (*Tensor).Backward on a scalar walks the
// graph once in reverse topological order and accumulates dL/dx into the
// Grad of every tensor that requires gradients. Gradients of a tensor used in
// several places add up. Leaf gradients accumulate across calls until
// ZeroGrad.
//
// Gradient tracking is a property of tensors, not of a global mode: ops on
// inputs that do not require gradients build no graph. NoGrad switches it off
// on a set of leaves (a model's parameters) for evaluation and decoding, so
// concurrent runs in other goroutines are unaffected.
//
// # Shapes and errors
//
// Elementwise ops broadcast as NumPy does. Shape mismatches, indices out of
// range and other misuses are programmer errors: ops panic with an Error (as
// gonum's mat.Error) whose message names the op and the shapes involved.
// Every panic of this package carries an Error, so a caller that recovers
// must test for exactly that type (the run executor does) and let any other
// panic through as a bug.
//
// # Matrix products
//
// Every matrix product goes through Gemm, one entry point: a packed,
// cache-blocked SGEMM with AVX-512 and AVX2+FMA micro-kernels in Go assembly,
// chosen at run time (gonum's pure-Go Sgemm on other CPUs, OpenBLAS with
// -tags openblas). SetThreads lets large products use several goroutines.
// MatMulT reads transposed operands in place, never copying them.
//
// # Randomness
//
// RNG is the seeded generator for everything random in a run, with a state
// that can be saved and restored.
//
// # Testing support
//
// GradCheck compares analytic gradients with central differences on a random
// projection of the outputs; every package uses it to check its ops and
// layers.
package tensor

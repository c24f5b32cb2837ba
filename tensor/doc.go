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
// chosen at run time (the same driver over a micro-kernel in Go on other
// CPUs and with -tags purego; OpenBLAS with -tags openblas). MatMulT reads transposed operands in place,
// except that the AVX2 kernel copies a transposed A (a weight gradient's Xᵀ) out row by row when its stride
// would crowd a few of L1's sets (transposeA in gemm_blocked.go: 5–8 % on such products on a Zen 3,
// bitwise the same sums), and the AVX2 kernels run a row tile's full column panels (two or more) in
// one call (kernelPanels in gemm_asmgen.go, bitwise the same; not frozen weights' gemmPre, which goes panel by panel). In a training step the operands of a product are mostly
// cold (a fresh result buffer, a gradient untouched for a pass), so the
// micro-kernels prefetch their tile of C before their loop, and small
// products (the per-head attention products) prefetch A and B whole
// before their first kernel.
//
// SetThreads lets a product of at least about 64×128×128 multiply-adds use
// several goroutines: it is cut with ParallelFor (the one pool of workers
// of this package) into a few blocks of C — of whole nr-wide column panels
// when C is no taller than wide (a linear map's dW), so that each goroutine
// packs only its own panels once, or reads its strip of B, and the blocks
// come out even, and of rows otherwise (a tall product's blocks each pack
// all of a small B rather than each read all of A) — each an ordinary
// blocked product. The cut
// never changes a result: every element is computed by the same kernel
// arithmetic in the same order whatever the number of threads, bit for bit
// (TestGemmThreadsBitwise). A linear map's two backward products (dX and
// dW) are cut the same way and all their blocks handed out by a single
// ParallelFor, so that no goroutine waits at the end of one product while
// the other still has work.
//
// A product sums its depth in blocks (DepthBlock), each block's sum from
// zero, added to C in order; a product cut at those blocks into products
// of their own whose results are added in the same order has the same bits
// (TestDepthBlock). A decoder relies on it to compute once the share of
// the rows a step has in common (../models, sharedShare).
//
// # Fused ops and memory
//
// The passes of a training step that are not matrix products run as few
// times over memory as possible. Linear, LinearAct (ReLU or GELU) and
// AddLinear (a residual connection) add the bias, the activation and the
// residual to each block of the product while it is in cache (a GEMM
// epilogue), and their backward passes compute every gradient from the
// upstream one directly. The activation's gradient of a LinearAct whose
// only consumer is another linear map (a feed-forward network) is applied
// in that map's dX product, as its epilogue, on blocks still in cache: no
// separate pass over the hidden gradient (bitwise the same values; an
// output with several consumers keeps the separate pass). LayerNorm takes one kernel call per row forward
// and backward. AdamUpdate is the whole Adam/AdamW update in one pass over
// flat memory. The memory-bound kernels (adds, gradient accumulation, ReLU,
// sums of squares, Adam, LayerNorm rows, the row sums of a bias's
// gradient) are assembly for AVX-512 or for AVX2+FMA, whichever the CPU
// has (blas1_asmgen.go writes both from one description; the LayerNorm
// rows and row sums are written by hand), Go loops elsewhere.
//
// Results and gradients of a training step come from size-class free lists
// (capacities 4, 5, 6 and 7 times a power of two: at most a fifth spare)
// that survive garbage collections, and Release gives a finished step's
// buffers back (Scratch and Recycle for the temporaries of kernels defined
// outside this package), so steps reuse warm memory instead of faulting in
// fresh pages. An op that writes every element of its result skips
// clearing it, and a backward pass that writes an input's whole gradient
// into a fresh buffer assigns instead of clearing and adding (GEMM's beta
// 0; CustomDst for ops defined outside this package, as attention's).
//
// Freeze marks weights that will not change for a while (a decoder's, for
// the length of a decoding): products that read a frozen tensor as their
// right operand pack it into the kernel's panel layout once and reuse it.
// A packed weight too large for the caches (a vocabulary projection) is
// streamed from memory at every product; products of several row tiles on
// it run every tile on one panel before the next and prefetch the panels
// ahead from inside the micro-kernels (gemmPre; gemm_asmgen.go's kernelPF
// writes them as twins of the row-mode kernels), so the stream overlaps
// the arithmetic. FrozenToken tells a cache built from frozen tensors
// whether they are still frozen by the same Freeze (models' table of a
// deep output's embedding products). FreezeValues is Freeze that leaves
// gradient tracking on, for an op that reads a weight in a loop of its
// own while it builds its graph: layers' LSTM and GRU sequence kernels
// hold their recurrent weight so for a sequence's steps, in training too,
// where PackSteps says the kernels gain from it (AVX2; with AVX-512 the
// steps read the weight in place faster).
// The frozen set is the process's: every goroutine's products on a frozen
// range read the packed copy, so its values must not change until each
// holder has restored it.
//
// # Threads
//
// SetThreads (a run's train.threads) sets how many goroutines one
// training step may use. Large products split across them (Gemm); the
// other passes — elementwise ops, LayerNorm, softmax and cross-entropy
// rows, the Adam update, attention's (batch row, head) pairs, the blocks
// of a linear map's two backward products — go through ParallelFor:
// workers started once, which spin briefly after a job before they park,
// so a hand-off costs well under a microsecond while a step runs. Work is split only
// where every output element is computed exactly as with one thread;
// gradients summed over rows (a bias's, LayerNorm's gamma and beta) are
// summed by fixed blocks of rows, then the blocks in order. So results do
// not depend on the number of threads, bit for bit. (A training step also
// splits its batch in two halves run side by side, each on its own copy of
// the model — Tensor.ShareData, CrossEntropyShare; see runs.Stepper — a
// split fixed by the batch, not by the threads.) They do depend on the
// kernels chosen at run time: the AVX-512, AVX2+FMA and Go kernels (and
// OpenBLAS) round differently, so one computation gives other last bits on
// a CPU of another kind, and a training run, which compounds them, other
// results.
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

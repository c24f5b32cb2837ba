package tensor_test

import (
	"fmt"

	"github.com/attnlab/attnlab/tensor"
)

// Gemm multiplies row-major matrices in place: here C = A·Bᵀ + C, with B
// stored 2×3 and read transposed.
func ExampleGemm() {
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3
	b := []float32{1, 0, 1, 0, 1, 0} // 2×3, used as 3×2
	c := []float32{10, 20, 30, 40}   // 2×2
	tensor.Gemm(false, true, 2, 2, 3, 1, a, 3, b, 3, 1, c, 2)
	fmt.Println(c)
	// Output: [14 22 40 45]
}

// A training run sets the intra-op threads once from its train.threads
// config; products too small to gain stay on the calling goroutine.
func ExampleSetThreads() {
	defer tensor.SetThreads(tensor.Threads())
	tensor.SetThreads(2)
	fmt.Println(tensor.Threads())
	// Output: 2
}

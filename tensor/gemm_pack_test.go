package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestGemmPackTrans checks every transposing pack routine against the
// definition dst[c·ds+r] = src[r·ld+c], and that it writes nothing else.
func TestGemmPackTrans(t *testing.T) {
	t.Parallel()
	packs := map[string]func(dst []float32, ds int, src []float32, ld, rows, cols int){"go": gemmPackTrans}
	for _, kr := range gemmKernelList {
		if kr.packT != nil {
			packs[kr.name] = kr.packT
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for name, pack := range packs {
		for _, rows := range []int{1, 2, 3, 5, 12, 15, 16, 17, 31, 32, 33} {
			for _, cols := range []int{1, 7, 15, 16, 17, 33, 64, 100} {
				t.Run(fmt.Sprintf("%s/%dx%d", name, rows, cols), func(t *testing.T) {
					ld := cols + rng.IntN(3)
					ds := rows + rng.IntN(3)
					src := make([]float32, (rows-1)*ld+cols)
					for i := range src {
						src[i] = rng.Float32()
					}
					dst := make([]float32, (cols-1)*ds+rows+5)
					for i := range dst {
						dst[i] = -1
					}
					pack(dst[:(cols-1)*ds+rows], ds, src, ld, rows, cols)
					for i, v := range dst {
						c, r := i/ds, i%ds
						want := float32(-1)
						if c < cols && r < rows {
							want = src[r*ld+c]
						}
						if v != want {
							t.Fatalf("dst[%d] (c=%d, r=%d) = %g, want %g", i, c, r, v, want)
						}
					}
				})
			}
		}
	}
}

// TestGemmPackCopy checks every copying pack routine against the
// definition dst[r·ds+c] = src[r·ld+c], and that it writes nothing else
// (no column past cols, no row past rows, nothing between rows).
func TestGemmPackCopy(t *testing.T) {
	t.Parallel()
	packs := map[string]func(dst []float32, ds int, src []float32, ld, rows, cols int){"go": gemmPackCopy}
	for _, kr := range gemmKernelList {
		if kr.packN != nil {
			packs[kr.name] = kr.packN
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for name, pack := range packs {
		for _, rows := range []int{1, 2, 3, 4, 5, 7, 8, 12, 255, 256} {
			for _, cols := range []int{1, 2, 11, 12, 15, 16, 17, 31, 32, 33, 40} {
				t.Run(fmt.Sprintf("%s/%dx%d", name, rows, cols), func(t *testing.T) {
					ld := cols + rng.IntN(3)
					ds := cols + rng.IntN(3)
					src := make([]float32, (rows-1)*ld+cols)
					for i := range src {
						src[i] = rng.Float32()
					}
					dst := make([]float32, (rows-1)*ds+cols+5)
					for i := range dst {
						dst[i] = -1
					}
					pack(dst[:(rows-1)*ds+cols], ds, src, ld, rows, cols)
					for i, v := range dst {
						r, c := i/ds, i%ds
						want := float32(-1)
						if r < rows && c < cols {
							want = src[r*ld+c]
						}
						if v != want {
							t.Fatalf("dst[%d] (r=%d, c=%d) = %g, want %g", i, r, c, v, want)
						}
					}
				})
			}
		}
	}
}

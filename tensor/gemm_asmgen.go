//go:build ignore

// gemm_asmgen writes the amd64 SGEMM micro-kernels: gemm_kernels_amd64.s
// and their Go declarations in gemm_kernels_amd64.go, and the prefetching
// row-mode kernels for frozen weights in freeze_kernels_amd64.{s,go}
// (kernelPF); the AVX2 kernels that loop over a row tile's full panels
// (kernelPanels) go with the plain ones. Run it with
// `go generate` in tensor/ (see gemm_amd64.go) after changing it.
//
// Every kernel computes one register tile of
//
//	C[0:mr, 0:nr] = alpha·Σ_p A(i,p)·B(p,j) + beta·C   (beta = 0: C not read)
//
// with C row-major (row stride cs bytes) and the products along j held in
// vector registers. B is read as k rows of up to nv vectors, row p at
// b + p·bs bytes (a packed panel, or B itself when it is not transposed).
// A is read one of two ways, fixed per kernel:
//
//	"c" (column): A(i,p) at a + p·as + 4i — a packed panel, or a transposed A
//	              read in place;
//	"r" (row):    A(i,p) at a + i·as + 4p — a plain row-major A in place.
//
// Only the mr rows of the tile are read from A and written to C, so kernels
// can read operands in place right up to their last element. Columns past
// nr are masked: AVX-512 kernels mask every B load and C access with opmask
// registers; AVX2 kernels have a separate "m" variant that masks the last
// vector of each row with VMASKMOVPS.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
)

type isa struct {
	name  string // suffix in function names
	vlen  int    // float32 lanes per vector
	reg   string // "Z" or "Y"
	mrMax int    // rows of the full tile
	nvMax int    // vectors per row of the full tile
	k512  bool   // AVX-512 (opmask registers)
}

var isas = []isa{
	{name: "512", vlen: 16, reg: "Z", mrMax: 12, nvMax: 2, k512: true},
	{name: "256", vlen: 8, reg: "Y", mrMax: 6, nvMax: 2},
}

type gen struct{ bytes.Buffer }

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.Buffer, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.Buffer, "%s:\n", l) }

func kname(s isa, mode byte, mr, nv int, masked bool) string {
	n := fmt.Sprintf("gemmK%s%c%dx%d", s.name, mode, mr, nv)
	if masked {
		n += "m"
	}
	return n
}

// kernel emits one micro-kernel. Registers: B vectors in V0..V(nv-1), the
// broadcast A value in V2/V3 (AVX-512) or V2 (AVX2), accumulators from V4
// (AVX-512) or V3 (AVX2); AVX2's column mask lives in Y15. The epilogue reuses
// V0..V2 for alpha, beta and the old C.
func (g *gen) kernel(s isa, mode byte, mr, nv int, masked bool) {
	g.kernelPF(s, mode, mr, nv, masked, 0)
}

// fname names the prefetching row-mode kernels written to
// freeze_kernels_amd64.s.
func fname(s isa, mr, every int) string {
	return fmt.Sprintf("gemmK%sf%dx2e%d", s.name, mr, every)
}

// kernelPF emits kernel(s, mode, mr, nv, masked) or, with every > 0 (row
// mode, nv 2, not masked only), its prefetching twin for products whose B
// was packed ahead (frozen weights):
//
//	gemmK<isa>f<mr>x2e<every>(k int, a *float32, as int, b *float32, bs int,
//	        c *float32, cs int, alpha, beta float32, nr int, pf *float32, pfn int)
//
// which also prefetches (PREFETCHT0) the pfn cache lines from pf on — the
// part of the packed weight the product reads next — one line every
// `every` k steps while lines are left, the rest after the loop. The
// arithmetic is the same instructions in the same order as the plain
// kernel's, so results are bitwise the same.
func (g *gen) kernelPF(s isa, mode byte, mr, nv int, masked bool, every int) {
	g.kernelAll(s, mode, mr, nv, masked, every, false)
}

// pname names the AVX2 kernels that run a row of full panels (panels).
func pname(s isa, mode byte, mr int) string {
	return fmt.Sprintf("gemmK%s%c%dx2p", s.name, mode, mr)
}

// kernelPanels emits the twin of kernel(s, mode, mr, 2, false) that runs
// np full panels of one row tile in a loop (AVX2 only):
//
//	gemmK256<mode><mr>x2p(k int, a *float32, as int, b *float32, bs int,
//	        c *float32, cs int, alpha, beta float32, np, bp int)
//
// np ≥ 1 (it counts down to zero); panel q reads B at b + q·bp bytes and
// writes the 16 columns of C at c + 64q bytes; each panel is the plain kernel's instructions in the same order,
// so results are bitwise the same. It saves the blocked driver a call (and
// its ten stack arguments) per panel.
func (g *gen) kernelPanels(s isa, mode byte, mr int) {
	g.kernelAll(s, mode, mr, 2, false, 0, true)
}

// kernelAll emits kernelPF's kernels and, with panels, kernelPanels'.
func (g *gen) kernelAll(s isa, mode byte, mr, nv int, masked bool, every int, panels bool) {
	name := kname(s, mode, mr, nv, masked)
	args, frame := "", 72
	if every > 0 {
		if mode != 'r' || nv != 2 || masked {
			log.Fatalf("kernelPF: prefetching kernels are row mode, nv 2, not masked only")
		}
		name, args, frame = fname(s, mr, every), ", pf *float32, pfn int", 88
	}
	if panels {
		if s.k512 || nv != 2 || masked || every > 0 {
			log.Fatalf("kernelPanels: AVX2, nv 2, not masked, not prefetching only")
		}
		name, frame = pname(s, mode, mr), 80
	}
	r := func(i int) string { return fmt.Sprintf("%s%d", s.reg, i) }
	accBase := 4
	if !s.k512 {
		accBase = 3
	}
	acc := func(i, v int) string { return r(accBase + i*nv + v) }
	vbytes := s.vlen * 4

	if panels {
		fmt.Fprintf(&g.Buffer, "\n// func %s(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, np, bp int)\n", name)
	} else {
		fmt.Fprintf(&g.Buffer, "\n// func %s(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, nr int%s)\n", name, args)
	}
	fmt.Fprintf(&g.Buffer, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", name, frame)
	// cAddr and bAddr: where this panel's C and B start (R15 and R14 when
	// a loop runs the panels, BX counting them down).
	cAddr, bAddr := "c+40(FP)", "b+24(FP)"
	if panels {
		g.p("MOVQ np+64(FP), BX")
		g.p("MOVQ b+24(FP), R14")
		g.p("MOVQ c+40(FP), R15")
		g.label(name + "_panel")
		cAddr, bAddr = "R15", "R14"
	}
	// Column masks.
	if s.k512 {
		g.p("MOVQ nr+64(FP), CX")
		g.p("MOVQ $1, AX")
		g.p("SHLQ CX, AX")
		g.p("DECQ AX")
		g.p("KMOVW AX, K1")
		if nv > 1 {
			g.p("SHRQ $16, AX")
			g.p("KMOVW AX, K2")
		}
	} else if masked {
		// Y15 = mask for the last vector: rem = nr - vlen·(nv-1) lanes set.
		g.p("MOVQ $%d, CX", s.vlen*nv)
		g.p("SUBQ nr+64(FP), CX")
		g.p("LEAQ gemmMaskTab<>(SB), AX")
		g.p("VMOVDQU (AX)(CX*4), Y15")
	}
	// Prefetch the tile of C: it is written (or read, beta != 0) only after
	// the k loop, and in a training step it is often cold (a fresh result
	// buffer, a gradient last touched a whole pass ago); fetching it now
	// overlaps those misses with the loop instead of stalling the stores.
	g.p("MOVQ %s, AX", cAddr)
	g.p("MOVQ cs+48(FP), DX")
	for i := 0; i < mr; i++ {
		for l := 0; l < (nv*vbytes+63)/64; l++ {
			if l == 0 {
				g.p("PREFETCHT0 (AX)")
			} else {
				g.p("PREFETCHT0 %d(AX)", 64*l)
			}
		}
		if i < mr-1 {
			g.p("ADDQ DX, AX")
		}
	}
	g.p("MOVQ k+0(FP), CX")
	g.p("MOVQ a+8(FP), SI")
	g.p("MOVQ as+16(FP), R8")
	g.p("MOVQ %s, DI", bAddr)
	g.p("MOVQ bs+32(FP), R9")
	if every > 0 {
		g.p("MOVQ pf+72(FP), R14")
		g.p("MOVQ pfn+80(FP), R15")
	}
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			if s.k512 {
				g.p("VPXORD %s, %s, %s", acc(i, v), acc(i, v), acc(i, v))
			} else {
				g.p("VXORPS %s, %s, %s", acc(i, v), acc(i, v), acc(i, v))
			}
		}
	}
	// Row mode: bases for rows 0-2 (SI), 3-5, 6-8, 9-11 (R10..R12).
	bases := []string{"SI", "R10", "R11", "R12", "R13"}
	nb := (mr + 2) / 3
	if mode == 'r' {
		for j := 1; j < nb; j++ {
			g.p("LEAQ (%s)(R8*2), %s", bases[j-1], bases[j])
			g.p("ADDQ R8, %s", bases[j])
		}
	}
	aAddr := func(i int) string {
		if mode == 'c' {
			if i == 0 {
				return "(SI)"
			}
			return fmt.Sprintf("%d(SI)", 4*i)
		}
		b := bases[i/3]
		switch i % 3 {
		case 0:
			return fmt.Sprintf("(%s)", b)
		case 1:
			return fmt.Sprintf("(%s)(R8*1)", b)
		}
		return fmt.Sprintf("(%s)(R8*2)", b)
	}
	// body emits one k step.
	body := func() {
		for v := 0; v < nv; v++ {
			off := ""
			if v > 0 {
				off = fmt.Sprint(v * vbytes)
			}
			switch {
			case s.k512:
				g.p("VMOVUPS.Z %s(DI), K%d, %s", off, v+1, r(v))
			case masked && v == nv-1:
				g.p("VMASKMOVPS %s(DI), Y15, %s", off, r(v))
			default:
				g.p("VMOVUPS %s(DI), %s", off, r(v))
			}
		}
		for i := 0; i < mr; i++ {
			bc := r(2)
			if s.k512 && i%2 == 1 {
				bc = r(3)
			}
			g.p("VBROADCASTSS %s, %s", aAddr(i), bc)
			for v := 0; v < nv; v++ {
				g.p("VFMADD231PS %s, %s, %s", r(v), bc, acc(i, v))
			}
		}
		g.p("ADDQ R9, DI")
		if mode == 'c' {
			g.p("ADDQ R8, SI")
		} else {
			for j := 0; j < nb; j++ {
				g.p("ADDQ $4, %s", bases[j])
			}
		}
	}
	if every == 0 {
		g.p("TESTQ CX, CX")
		g.p("JZ %s_store", name)
		g.label(name + "_loop")
		body()
		g.p("DECQ CX")
		g.p("JNZ %s_loop", name)
	} else {
		g.p("TESTQ CX, CX")
		g.p("JZ %s_rest", name)
		// Steps with a prefetch (one every `every` steps) while lines
		// are left, then plain steps.
		g.p("TESTQ R15, R15")
		g.p("JLE %s_loop", name)
		g.label(name + "_pfloop")
		g.p("PREFETCHT0 (R14)")
		g.p("ADDQ $64, R14")
		g.p("DECQ R15")
		for e := 0; e < every; e++ {
			body()
			g.p("DECQ CX")
			g.p("JZ %s_rest", name)
		}
		g.p("TESTQ R15, R15")
		g.p("JNZ %s_pfloop", name)
		g.label(name + "_loop")
		body()
		g.p("DECQ CX")
		g.p("JNZ %s_loop", name)
		// Lines the loop did not reach.
		g.label(name + "_rest")
		g.p("TESTQ R15, R15")
		g.p("JLE %s_store", name)
		g.label(name + "_restloop")
		g.p("PREFETCHT0 (R14)")
		g.p("ADDQ $64, R14")
		g.p("DECQ R15")
		g.p("JNZ %s_restloop", name)
	}

	// Epilogue: C = alpha·acc + beta·C, or alpha·acc when beta == 0.
	g.label(name + "_store")
	g.p("MOVQ %s, DI", cAddr)
	g.p("MOVQ cs+48(FP), R9")
	g.p("VBROADCASTSS alpha+56(FP), %s", r(0))
	g.p("MOVL beta+60(FP), AX")
	g.p("ANDL $0x7fffffff, AX")
	g.p("JZ %s_beta0", name)
	g.p("VBROADCASTSS beta+60(FP), %s", r(1))
	store := func(withBeta bool) {
		for i := 0; i < mr; i++ {
			for v := 0; v < nv; v++ {
				off := ""
				if v > 0 {
					off = fmt.Sprint(v * vbytes)
				}
				if withBeta {
					switch {
					case s.k512:
						g.p("VMOVUPS.Z %s(DI), K%d, %s", off, v+1, r(2))
					case masked && v == nv-1:
						g.p("VMASKMOVPS %s(DI), Y15, %s", off, r(2))
					default:
						g.p("VMOVUPS %s(DI), %s", off, r(2))
					}
				}
				g.p("VMULPS %s, %s, %s", r(0), acc(i, v), acc(i, v))
				if withBeta {
					g.p("VFMADD231PS %s, %s, %s", r(2), r(1), acc(i, v))
				}
				switch {
				case s.k512:
					g.p("VMOVUPS %s, K%d, %s(DI)", acc(i, v), v+1, off)
				case masked && v == nv-1:
					g.p("VMASKMOVPS %s, Y15, %s(DI)", acc(i, v), off)
				default:
					g.p("VMOVUPS %s, %s(DI)", acc(i, v), off)
				}
			}
			if i < mr-1 {
				g.p("ADDQ R9, DI")
			}
		}
		if panels && withBeta {
			g.p("JMP %s_next", name)
			return
		}
		if panels {
			g.label(name + "_next")
			g.p("ADDQ bp+72(FP), R14")
			g.p("ADDQ $%d, R15", nv*vbytes)
			g.p("DECQ BX")
			g.p("JNZ %s_panel", name)
		}
		g.p("VZEROUPPER")
		g.p("RET")
	}
	store(true)
	g.label(name + "_beta0")
	store(false)
}

// packT16 emits gemmPackT16(dst *float32, ds int, src *float32, ld int,
// rows, cols int): dst[c·ds + 4r] = src[r·ld + 4c] for r < rows ≤ 16 and
// c < cols (strides in bytes), a 16×16 in-register transpose per step of 16
// columns. Only rows < rows are loaded and only lanes < rows stored.
func (g *gen) packT16() {
	name := "gemmPackT16"
	z := func(i int) string { return fmt.Sprintf("Z%d", i) }
	fmt.Fprintf(&g.Buffer, "\n// func %s(dst *float32, ds int, src *float32, ld int, rows, cols int)\n", name)
	fmt.Fprintf(&g.Buffer, "TEXT ·%s(SB), NOSPLIT, $0-48\n", name)
	g.p("MOVQ rows+32(FP), DX")
	g.p("MOVQ DX, CX")
	g.p("MOVQ $1, AX")
	g.p("SHLQ CX, AX")
	g.p("DECQ AX")
	g.p("KMOVW AX, K1") // lanes (rows) to store
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ ds+8(FP), R9")
	g.p("MOVQ src+16(FP), SI")
	g.p("MOVQ ld+24(FP), R8")
	g.p("MOVQ cols+40(FP), BX")
	g.p("TESTQ BX, BX")
	g.p("JLE %s_done", name)
	g.label(name + "_loop")
	// K2: columns of this step.
	g.p("MOVQ $0xffff, AX")
	g.p("CMPQ BX, $16")
	g.p("JGE %s_full", name)
	g.p("MOVQ BX, CX")
	g.p("MOVQ $1, AX")
	g.p("SHLQ CX, AX")
	g.p("DECQ AX")
	g.label(name + "_full")
	g.p("KMOVW AX, K2")
	g.p("MOVQ SI, R10")
	for r := 0; r < 16; r++ {
		if r > 0 {
			g.p("CMPQ DX, $%d", r)
			g.p("JLE %s_loaded", name)
		}
		g.p("VMOVUPS.Z (R10), K2, %s", z(r))
		if r < 15 {
			g.p("ADDQ R8, R10")
		}
	}
	g.label(name + "_loaded")
	for gr := 0; gr < 4; gr++ {
		a, b, c, d := 4*gr, 4*gr+1, 4*gr+2, 4*gr+3
		g.p("VUNPCKLPS %s, %s, %s", z(b), z(a), z(16+a))
		g.p("VUNPCKHPS %s, %s, %s", z(b), z(a), z(16+b))
		g.p("VUNPCKLPS %s, %s, %s", z(d), z(c), z(16+c))
		g.p("VUNPCKHPS %s, %s, %s", z(d), z(c), z(16+d))
	}
	for gr := 0; gr < 4; gr++ {
		t := func(i int) string { return z(16 + 4*gr + i) }
		g.p("VUNPCKLPD %s, %s, %s", t(2), t(0), z(4*gr+0))
		g.p("VUNPCKHPD %s, %s, %s", t(2), t(0), z(4*gr+1))
		g.p("VUNPCKLPD %s, %s, %s", t(3), t(1), z(4*gr+2))
		g.p("VUNPCKHPD %s, %s, %s", t(3), t(1), z(4*gr+3))
	}
	for q := 0; q < 4; q++ {
		g.p("VSHUFF32X4 $0x44, %s, %s, %s", z(4+q), z(q), z(16+q))
		g.p("VSHUFF32X4 $0xEE, %s, %s, %s", z(4+q), z(q), z(20+q))
		g.p("VSHUFF32X4 $0x44, %s, %s, %s", z(12+q), z(8+q), z(24+q))
		g.p("VSHUFF32X4 $0xEE, %s, %s, %s", z(12+q), z(8+q), z(28+q))
	}
	for q := 0; q < 4; q++ {
		g.p("VSHUFF32X4 $0x88, %s, %s, %s", z(24+q), z(16+q), z(q))
		g.p("VSHUFF32X4 $0xDD, %s, %s, %s", z(24+q), z(16+q), z(4+q))
		g.p("VSHUFF32X4 $0x88, %s, %s, %s", z(28+q), z(20+q), z(8+q))
		g.p("VSHUFF32X4 $0xDD, %s, %s, %s", z(28+q), z(20+q), z(12+q))
	}
	// Column c = 4L + q is in Z(4L+q)... stage 4 wrote col(L, q) to Z(4L+q).
	for c := 0; c < 16; c++ {
		if c > 0 {
			g.p("CMPQ BX, $%d", c)
			g.p("JLE %s_stored", name)
		}
		g.p("VMOVUPS %s, K1, (DI)", z(c))
		g.p("ADDQ R9, DI")
	}
	g.label(name + "_stored")
	g.p("ADDQ $64, SI")
	g.p("SUBQ $16, BX")
	g.p("JG %s_loop", name)
	g.label(name + "_done")
	g.p("VZEROUPPER")
	g.p("RET")
}

// packT8 emits gemmPackT8, the AVX2 counterpart of gemmPackT16: 8×8
// transposes, VMASKMOVPS for the last columns and for rows < 8.
func (g *gen) packT8() {
	name := "gemmPackT8"
	y := func(i int) string { return fmt.Sprintf("Y%d", i) }
	fmt.Fprintf(&g.Buffer, "\n// func %s(dst *float32, ds int, src *float32, ld int, rows, cols int)\n", name)
	fmt.Fprintf(&g.Buffer, "TEXT ·%s(SB), NOSPLIT, $0-48\n", name)
	g.p("MOVQ rows+32(FP), DX")
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ ds+8(FP), R9")
	g.p("MOVQ src+16(FP), SI")
	g.p("MOVQ ld+24(FP), R8")
	g.p("MOVQ cols+40(FP), BX")
	g.p("LEAQ gemmMaskTab<>(SB), R11")
	// R12 = row mask offset into the table: 4·(8 - rows).
	g.p("MOVQ $8, R12")
	g.p("SUBQ DX, R12")
	g.p("TESTQ BX, BX")
	g.p("JLE %s_done", name)
	g.label(name + "_loop")
	// Y15 = column mask: min(BX, 8) lanes.
	g.p("MOVQ $8, AX")
	g.p("SUBQ BX, AX")
	g.p("JGE %s_cm", name)
	g.p("XORQ AX, AX")
	g.label(name + "_cm")
	g.p("VMOVDQU (R11)(AX*4), Y15")
	g.p("MOVQ SI, R10")
	for r := 0; r < 8; r++ {
		if r > 0 {
			g.p("CMPQ DX, $%d", r)
			g.p("JLE %s_loaded", name)
		}
		g.p("VMASKMOVPS (R10), Y15, %s", y(r))
		if r < 7 {
			g.p("ADDQ R8, R10")
		}
	}
	g.label(name + "_loaded")
	for gr, dst := range []int{8, 0} {
		a := 4 * gr
		g.p("VUNPCKLPS %s, %s, %s", y(a+1), y(a), y(dst))
		g.p("VUNPCKHPS %s, %s, %s", y(a+1), y(a), y(dst+1))
		g.p("VUNPCKLPS %s, %s, %s", y(a+3), y(a+2), y(dst+2))
		g.p("VUNPCKHPS %s, %s, %s", y(a+3), y(a+2), y(dst+3))
	}
	for _, sd := range [][2]int{{8, 4}, {0, 8}} {
		t, u := sd[0], sd[1]
		g.p("VUNPCKLPD %s, %s, %s", y(t+2), y(t), y(u))
		g.p("VUNPCKHPD %s, %s, %s", y(t+2), y(t), y(u+1))
		g.p("VUNPCKLPD %s, %s, %s", y(t+3), y(t+1), y(u+2))
		g.p("VUNPCKHPD %s, %s, %s", y(t+3), y(t+1), y(u+3))
	}
	for q := 0; q < 4; q++ {
		g.p("VPERM2F128 $0x20, %s, %s, %s", y(8+q), y(4+q), y(q))
		g.p("VPERM2F128 $0x31, %s, %s, %s", y(8+q), y(4+q), y(4+q))
	}
	g.p("CMPQ DX, $8")
	g.p("JLT %s_partial", name)
	for _, masked := range []bool{false, true} {
		if masked {
			g.label(name + "_partial")
			g.p("VMOVDQU (R11)(R12*4), Y15")
		}
		for c := 0; c < 8; c++ {
			if c > 0 {
				g.p("CMPQ BX, $%d", c)
				g.p("JLE %s_stored", name)
			}
			if masked {
				g.p("VMASKMOVPS %s, Y15, (DI)", y(c))
			} else {
				g.p("VMOVUPS %s, (DI)", y(c))
			}
			g.p("ADDQ R9, DI")
		}
		if !masked {
			g.p("JMP %s_stored", name)
		}
	}
	g.label(name + "_stored")
	g.p("ADDQ $32, SI")
	g.p("SUBQ $8, BX")
	g.p("JG %s_loop", name)
	g.label(name + "_done")
	g.p("VZEROUPPER")
	g.p("RET")
}

// packN32 emits gemmPackN32(dst *float32, ds int, src *float32, ld int,
// rows, cols int): dst[r·ds + 4c] = src[r·ld + 4c] for r < rows and
// c < cols ≤ 32 (strides in bytes), one or two opmasked zmm loads and
// stores a row, four rows a step. It packs panels of a transposed A (cols
// ≤ mr) and of a plain B (cols ≤ nr) without a memmove call per row; only
// the cols columns are read and written.
func (g *gen) packN32() {
	name := "gemmPackN32"
	fmt.Fprintf(&g.Buffer, "\n// func %s(dst *float32, ds int, src *float32, ld int, rows, cols int)\n", name)
	fmt.Fprintf(&g.Buffer, "TEXT ·%s(SB), NOSPLIT, $0-48\n", name)
	g.p("MOVQ cols+40(FP), CX")
	g.p("MOVQ $1, AX")
	g.p("SHLQ CX, AX")
	g.p("DECQ AX")
	g.p("KMOVW AX, K1")
	g.p("SHRQ $16, AX")
	g.p("KMOVW AX, K2")
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ ds+8(FP), R9")
	g.p("MOVQ src+16(FP), SI")
	g.p("MOVQ ld+24(FP), R8")
	g.p("MOVQ rows+32(FP), BX")
	g.p("CMPQ CX, $16")
	g.p("JG %s_wide", name)
	for _, wide := range []bool{false, true} {
		lbl := name + "_n"
		if wide {
			lbl = name + "_w"
			g.label(name + "_wide")
		}
		g.label(lbl + "4")
		g.p("CMPQ BX, $4")
		g.p("JLT %s1", lbl)
		g.p("LEAQ (SI)(R8*2), R10")
		g.p("LEAQ (DI)(R9*2), R11")
		srcs := []string{"(SI)", "(SI)(R8*1)", "(R10)", "(R10)(R8*1)"}
		dsts := []string{"(DI)", "(DI)(R9*1)", "(R11)", "(R11)(R9*1)"}
		for r := 0; r < 4; r++ {
			g.p("VMOVUPS.Z %s, K1, Z%d", srcs[r], r)
			if wide {
				g.p("VMOVUPS.Z 64%s, K2, Z%d", srcs[r], r+4)
			}
		}
		for r := 0; r < 4; r++ {
			g.p("VMOVUPS Z%d, K1, %s", r, dsts[r])
			if wide {
				g.p("VMOVUPS Z%d, K2, 64%s", r+4, dsts[r])
			}
		}
		g.p("LEAQ (SI)(R8*4), SI")
		g.p("LEAQ (DI)(R9*4), DI")
		g.p("SUBQ $4, BX")
		g.p("JMP %s4", lbl)
		g.label(lbl + "1")
		g.p("TESTQ BX, BX")
		g.p("JLE %s_done", name)
		g.p("VMOVUPS.Z (SI), K1, Z0")
		if wide {
			g.p("VMOVUPS.Z 64(SI), K2, Z4")
		}
		g.p("VMOVUPS Z0, K1, (DI)")
		if wide {
			g.p("VMOVUPS Z4, K2, 64(DI)")
		}
		g.p("ADDQ R8, SI")
		g.p("ADDQ R9, DI")
		g.p("DECQ BX")
		g.p("JMP %s1", lbl)
	}
	g.label(name + "_done")
	g.p("VZEROUPPER")
	g.p("RET")
}

// packN16 emits gemmPackN16(dst *float32, ds int, src *float32, ld int,
// rows int): dst[r·ds + 4c] = src[r·ld + 4c] for r < rows and c < 16
// (strides in bytes), two ymm loads and stores a row, four rows a step.
// It packs the full panels of a plain B for the AVX2 kernels (nr = 16)
// without a memmove call per 64-byte row; narrower blocks take the Go
// loop (AVX2's masked stores are slow on AMD cores).
func (g *gen) packN16() {
	name := "gemmPackN16"
	fmt.Fprintf(&g.Buffer, "\n// func %s(dst *float32, ds int, src *float32, ld int, rows int)\n", name)
	fmt.Fprintf(&g.Buffer, "TEXT ·%s(SB), NOSPLIT, $0-40\n", name)
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ ds+8(FP), R9")
	g.p("MOVQ src+16(FP), SI")
	g.p("MOVQ ld+24(FP), R8")
	g.p("MOVQ rows+32(FP), BX")
	g.label(name + "_4")
	g.p("CMPQ BX, $4")
	g.p("JLT %s_1", name)
	g.p("LEAQ (SI)(R8*2), R10")
	g.p("LEAQ (DI)(R9*2), R11")
	srcs := []string{"(SI)", "(SI)(R8*1)", "(R10)", "(R10)(R8*1)"}
	dsts := []string{"(DI)", "(DI)(R9*1)", "(R11)", "(R11)(R9*1)"}
	for r := 0; r < 4; r++ {
		g.p("VMOVUPS %s, Y%d", srcs[r], 2*r)
		g.p("VMOVUPS 32%s, Y%d", srcs[r], 2*r+1)
	}
	for r := 0; r < 4; r++ {
		g.p("VMOVUPS Y%d, %s", 2*r, dsts[r])
		g.p("VMOVUPS Y%d, 32%s", 2*r+1, dsts[r])
	}
	g.p("LEAQ (SI)(R8*4), SI")
	g.p("LEAQ (DI)(R9*4), DI")
	g.p("SUBQ $4, BX")
	g.p("JMP %s_4", name)
	g.label(name + "_1")
	g.p("TESTQ BX, BX")
	g.p("JLE %s_done", name)
	g.p("VMOVUPS (SI), Y0")
	g.p("VMOVUPS 32(SI), Y1")
	g.p("VMOVUPS Y0, (DI)")
	g.p("VMOVUPS Y1, 32(DI)")
	g.p("ADDQ R8, SI")
	g.p("ADDQ R9, DI")
	g.p("DECQ BX")
	g.p("JMP %s_1", name)
	g.label(name + "_done")
	g.p("VZEROUPPER")
	g.p("RET")
}

// prefetchRows emits gemmPrefetchRows(p *float32, ld, rows, width int):
// PREFETCHT0 of every 64-byte line of rows rows of width bytes each, row r
// at p + r·ld bytes (width > 0).
func (g *gen) prefetchRows() {
	name := "gemmPrefetchRows"
	fmt.Fprintf(&g.Buffer, "\n// func %s(p *float32, ld, rows, width int)\n", name)
	fmt.Fprintf(&g.Buffer, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	g.p("MOVQ p+0(FP), SI")
	g.p("MOVQ ld+8(FP), R8")
	g.p("MOVQ rows+16(FP), BX")
	g.p("MOVQ width+24(FP), DX")
	g.p("TESTQ BX, BX")
	g.p("JLE %s_done", name)
	g.label(name + "_row")
	g.p("XORQ CX, CX")
	g.label(name + "_line")
	g.p("PREFETCHT0 (SI)(CX*1)")
	g.p("ADDQ $64, CX")
	g.p("CMPQ CX, DX")
	g.p("JLT %s_line", name)
	// The row's last byte may lie on one more line.
	g.p("PREFETCHT0 -1(SI)(DX*1)")
	g.p("ADDQ R8, SI")
	g.p("DECQ BX")
	g.p("JNZ %s_row", name)
	g.label(name + "_done")
	g.p("RET")
}

func main() {
	var s gen
	fmt.Fprintf(&s.Buffer, "// Code generated by gemm_asmgen.go; DO NOT EDIT.\n\n")
	fmt.Fprintf(&s.Buffer, "//go:build amd64 && !purego\n\n#include \"textflag.h\"\n\n")
	fmt.Fprintf(&s.Buffer, "// gemmMaskTab: eight all-ones lanes then eight zero lanes; the 8 lanes\n// starting at lane 8-r set the first r.\n")
	for i := 0; i < 16; i++ {
		v := "0xffffffff"
		if i >= 8 {
			v = "0x00000000"
		}
		fmt.Fprintf(&s.Buffer, "DATA gemmMaskTab<>+%d(SB)/4, $%s\n", 4*i, v)
	}
	fmt.Fprintf(&s.Buffer, "GLOBL gemmMaskTab<>(SB), RODATA|NOPTR, $64\n")

	s.packT16()
	s.packT8()
	s.packN32()
	s.packN16()
	s.prefetchRows()

	var d bytes.Buffer
	fmt.Fprintf(&d, "// Code generated by gemm_asmgen.go; DO NOT EDIT.\n\n")
	fmt.Fprintf(&d, "//go:build amd64 && !purego\n\npackage tensor\n\n")
	fmt.Fprintf(&d, "//go:noescape\nfunc gemmPackT16(dst *float32, ds int, src *float32, ld int, rows, cols int)\n\n")
	fmt.Fprintf(&d, "//go:noescape\nfunc gemmPackT8(dst *float32, ds int, src *float32, ld int, rows, cols int)\n\n")
	fmt.Fprintf(&d, "//go:noescape\nfunc gemmPackN32(dst *float32, ds int, src *float32, ld int, rows, cols int)\n\n")
	fmt.Fprintf(&d, "//go:noescape\nfunc gemmPackN16(dst *float32, ds int, src *float32, ld int, rows int)\n\n")
	fmt.Fprintf(&d, "//go:noescape\nfunc gemmPrefetchRows(p *float32, ld, rows, width int)\n\n")
	for _, is := range isas {
		variants := []bool{false}
		if !is.k512 {
			variants = []bool{false, true}
		}
		var tab bytes.Buffer
		fmt.Fprintf(&tab, "// gemmKernels%s[mode][mr][nv-1][masked] (mode 0: column A, 1: row A).\n", is.name)
		fmt.Fprintf(&tab, "var gemmKernels%s = [2][][][2]gemmMicro{\n", is.name)
		for mi, mode := range []byte{'c', 'r'} {
			fmt.Fprintf(&tab, "%d: {\n", mi)
			for mr := 1; mr <= is.mrMax; mr++ {
				fmt.Fprintf(&tab, "%d: {", mr)
				for nv := 1; nv <= is.nvMax; nv++ {
					fmt.Fprintf(&tab, "{")
					for _, m := range variants {
						s.kernel(is, mode, mr, nv, m)
						name := kname(is, mode, mr, nv, m)
						fmt.Fprintf(&d, "//go:noescape\nfunc %s(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, nr int)\n\n", name)
						fmt.Fprintf(&tab, "%s, ", name)
					}
					if len(variants) == 1 {
						fmt.Fprintf(&tab, "%s", kname(is, mode, mr, nv, false))
					}
					fmt.Fprintf(&tab, "},")
				}
				fmt.Fprintf(&tab, "},\n")
			}
			fmt.Fprintf(&tab, "},\n")
		}
		fmt.Fprintf(&tab, "}\n\n")
		if !is.k512 {
			fmt.Fprintf(&tab, "// gemmPanels%s[mode][mr] runs full panels in a loop (kernelPanels).\n", is.name)
			fmt.Fprintf(&tab, "var gemmPanels%s = [2][]gemmMicroPanels{\n", is.name)
			for mi, mode := range []byte{'c', 'r'} {
				fmt.Fprintf(&tab, "%d: {nil", mi)
				for mr := 1; mr <= is.mrMax; mr++ {
					s.kernelPanels(is, mode, mr)
					fmt.Fprintf(&d, "//go:noescape\nfunc %s(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, np, bp int)\n\n", pname(is, mode, mr))
					fmt.Fprintf(&tab, ", %s", pname(is, mode, mr))
				}
				fmt.Fprintf(&tab, "},\n")
			}
			fmt.Fprintf(&tab, "}\n\n")
		}
		d.Write(tab.Bytes())
	}
	src, err := format.Source(d.Bytes())
	if err != nil {
		os.WriteFile("gemm_kernels_amd64.go.broken", d.Bytes(), 0o644)
		log.Fatal(err)
	}
	if err := os.WriteFile("gemm_kernels_amd64.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("gemm_kernels_amd64.s", s.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	frozenKernels()
}

// frozenKernels writes freeze_kernels_amd64.s and freeze_kernels_amd64.go:
// the prefetching twins (kernelPF) of the row-mode kernels with two
// vectors per row, AVX-512 and then AVX2, for every tile height and a line
// every 1, 2 or 3 k steps.
func frozenKernels() {
	var g gen
	g.WriteString("// Code generated by gemm_asmgen.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n")
	var d bytes.Buffer
	d.WriteString("// Code generated by gemm_asmgen.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\npackage tensor\n\n")
	for _, is := range isas {
		for _, every := range []int{1, 2, 3} {
			for mr := 1; mr <= is.mrMax; mr++ {
				g.kernelPF(is, 'r', mr, 2, false, every)
				fmt.Fprintf(&d, "//go:noescape\nfunc %s(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, nr int, pf *float32, pfn int)\n\n", fname(is, mr, every))
			}
		}
	}
	for _, is := range isas {
		fmt.Fprintf(&d, "// gemmFrozenKernels%s[e-1][mr] is gemmK%sf<mr>x2e<e>.\nvar gemmFrozenKernels%s = [3][%d]gemmMicroPF{", is.name, is.name, is.name, is.mrMax+1)
		for _, every := range []int{1, 2, 3} {
			d.WriteString("{nil")
			for mr := 1; mr <= is.mrMax; mr++ {
				fmt.Fprintf(&d, ", %s", fname(is, mr, every))
			}
			d.WriteString("},\n")
		}
		d.WriteString("}\n\n")
	}
	src, err := format.Source(d.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("freeze_kernels_amd64.s", g.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("freeze_kernels_amd64.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}

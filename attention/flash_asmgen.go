//go:build ignore

// flash_asmgen writes flash_amd64.s: the AVX-512 tile kernels of the fused
// flash attention for heads of 32 (flash32.go). Run it with `go generate`
// in attention/ after changing it.
//
// Both kernels work on a tile of 8 keys × 32 queries held transposed: one
// key per pair of zmm registers, the 32 queries in their lanes, so that the
// online softmax's maximum and sum over keys are vertical (no horizontal
// reductions) and a query's shift (its running maximum, or its
// log-sum-exp) is a vector. Every operand is packed by the caller into
// contiguous 128-byte rows (32 floats), so every address is a constant
// displacement from one base register:
//
//	qt   [32 dims][32 queries]  the queries' block, transposed, times the scale
//	k, v [keys][32]             a head's keys and values, row by row
//	ot   [32 dims][32 queries]  the forward's unnormalised context, transposed
//
// exp is vmath's (tensor/vmath_asmgen.go): x clamped below at −104 (so
// e^(−Inf) and e^(−Inf−m) are exactly 0), n = round(x·log2e), Cody–Waite
// reduction, Cephes' degree-5 polynomial, VSCALEFPS.
package main

import (
	"bytes"
	"fmt"
	"log"
	"math"
	"os"
	"strings"
)

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }
func label(l string)               { fmt.Fprintf(&out, "%s:\n", l) }

type konst struct {
	name string
	v    float64
}

var consts = []konst{
	{"one", 1},
	{"lazyShift", 8},
	{"expLo", -104},
	{"log2e", 1.44269504088896341},
	{"ln2Hi", 0.693359375},
	{"ln2Lo", -2.12194440e-4},
	{"expP0", 1.9875691500e-4},
	{"expP1", 1.3981999507e-3},
	{"expP2", 8.3334519073e-3},
	{"expP3", 4.1665795894e-2},
	{"expP4", 1.6666665459e-1},
	{"expP5", 5.0000001201e-1},
}

func c(name string) string {
	for i, k := range consts {
		if k.name == name {
			return fmt.Sprintf("flashConst<>+%d(SB)", 4*i)
		}
	}
	log.Fatalf("no constant %s", name)
	return ""
}

func z(i int) string { return fmt.Sprintf("Z%d", i) }

// exp replaces x by eˣ; n, q, t are scratch; Z31 holds −104.
func exp(x, n, q, t string) {
	p("VMAXPS %s, Z31, %s", x, x)
	p("VMULPS.BCST %s, %s, %s", c("log2e"), x, n)
	p("VRNDSCALEPS $0, %s, %s", n, n)
	p("VFNMADD231PS.BCST %s, %s, %s", c("ln2Hi"), n, x)
	p("VFNMADD231PS.BCST %s, %s, %s", c("ln2Lo"), n, x)
	p("VBROADCASTSS %s, %s", c("expP0"), q)
	for _, k := range []string{"expP1", "expP2", "expP3", "expP4", "expP5"} {
		p("VFMADD213PS.BCST %s, %s, %s", c(k), x, q)
	}
	p("VMULPS %s, %s, %s", x, x, t)
	p("VFMADD213PS %s, %s, %s", x, t, q)
	p("VADDPS.BCST %s, %s, %s", c("one"), q, q)
	p("VSCALEFPS %s, %s, %s", n, q, x)
}

// roll is how many steps (of the inner dimension, 32) one iteration of
// the product loops does; the loops are not unrolled completely so that
// the kernels stay within the op cache.
var roll = atoi(os.Getenv("FLASH_ROLL"), 4)

var nlabel int

// loop emits a loop of 32/roll iterations around body(u) for u < roll,
// with counter register n; step advances the loop's pointers.
func loop(n string, body func(u int), step func()) {
	nlabel++
	l := fmt.Sprintf("%s_l%d", fn, nlabel)
	p("MOVQ $%d, %s", 32/roll, n)
	label(l)
	for u := 0; u < roll; u++ {
		body(u)
	}
	step()
	p("DECQ %s", n)
	p("JNZ %s", l)
}

// fn is the kernel being emitted (for labels).
var fn string

// tileProduct writes to Z0…Z15 the 8×32 tile Σ_c rows[r][c] · cols[c][:]
// (rows: 8 rows of 32 at base rb; cols: 32 rows of 32 at base cb), key r
// in Z(2r) (queries 0–15) and Z(2r+1) (16–31). Z16–Z19 are scratch, and
// t1, t2, n (general registers).
func tileProduct(rb, cb, t1, t2, n string) {
	for i := 0; i < 16; i++ {
		p("VPXORD %s, %s, %s", z(i), z(i), z(i))
	}
	p("MOVQ %s, %s", rb, t1)
	p("MOVQ %s, %s", cb, t2)
	loop(n, func(u int) {
		p("VMOVUPS %d(%s), Z16", u*128, t2)
		p("VMOVUPS %d(%s), Z17", u*128+64, t2)
		for r := 0; r < 8; r++ {
			b := z(18 + r%2)
			p("VBROADCASTSS %d(%s), %s", r*128+4*u, t1, b)
			p("VFMADD231PS %s, Z16, %s", b, z(2*r))
			p("VFMADD231PS %s, Z17, %s", b, z(2*r+1))
		}
	}, func() {
		p("ADDQ $%d, %s", 4*roll, t1)
		p("ADDQ $%d, %s", 128*roll, t2)
	})
}

// keyBias adds bias[r] (8 floats at base bb) to key r of the tile in
// Z0…Z15.
func keyBias(bb string) {
	for r := 0; r < 8; r++ {
		p("VADDPS.BCST %d(%s), %s, %s", 4*r, bb, z(2*r), z(2*r))
		p("VADDPS.BCST %d(%s), %s, %s", 4*r, bb, z(2*r+1), z(2*r+1))
	}
}

// colsUpdate does acc[c][:] += Σ_r rows[r][c] · tile_r for c = 0…31 (acc:
// 32 rows of 32 at base ab; rows: 8 rows of 32 at base rb), the tile in
// Z0…Z15 as tileProduct leaves it. Z18, Z19, Z24–Z27 are scratch, and
// t1, t2, n.
func colsUpdate(ab, rb, t1, t2, n string) {
	p("MOVQ %s, %s", ab, t1)
	p("MOVQ %s, %s", rb, t2)
	loop(n, func(cc int) {
		if cc%2 == 1 {
			return
		}
		for u := 0; u < 2; u++ {
			p("VMOVUPS %d(%s), %s", (cc+u)*128, t1, z(24+2*u))
			p("VMOVUPS %d(%s), %s", (cc+u)*128+64, t1, z(25+2*u))
		}
		for r := 0; r < 8; r++ {
			for u := 0; u < 2; u++ {
				b := z(18 + u)
				p("VBROADCASTSS %d(%s), %s", r*128+4*(cc+u), t2, b)
				p("VFMADD231PS %s, %s, %s", b, z(2*r), z(24+2*u))
				p("VFMADD231PS %s, %s, %s", b, z(2*r+1), z(25+2*u))
			}
		}
		for u := 0; u < 2; u++ {
			p("VMOVUPS %s, %d(%s)", z(24+2*u), (cc+u)*128, t1)
			p("VMOVUPS %s, %d(%s)", z(25+2*u), (cc+u)*128+64, t1)
		}
	}, func() {
		p("ADDQ $%d, %s", 128*roll, t1)
		p("ADDQ $%d, %s", 4*roll, t2)
	})
}

// rowsUpdate does acc[r][:] += Σ_i tile[r][i] · rows[i][:] for the 8 keys
// r (acc: 8 rows of 32 at base ab; the tile as 8 rows of 32 queries at
// base tb; rows: 32 rows of 32 at base xb). Z0…Z19 are used, and t1, t2,
// n.
func rowsUpdate(ab, tb, xb, t1, t2, n string) {
	for i := 0; i < 16; i++ {
		p("VMOVUPS %d(%s), %s", 64*i, ab, z(i))
	}
	p("MOVQ %s, %s", tb, t1)
	p("MOVQ %s, %s", xb, t2)
	loop(n, func(u int) {
		p("VMOVUPS %d(%s), Z16", u*128, t2)
		p("VMOVUPS %d(%s), Z17", u*128+64, t2)
		for r := 0; r < 8; r++ {
			b := z(18 + r%2)
			p("VBROADCASTSS %d(%s), %s", r*128+4*u, t1, b)
			p("VFMADD231PS %s, Z16, %s", b, z(2*r))
			p("VFMADD231PS %s, Z17, %s", b, z(2*r+1))
		}
	}, func() {
		p("ADDQ $%d, %s", 4*roll, t1)
		p("ADDQ $%d, %s", 128*roll, t2)
	})
	for i := 0; i < 16; i++ {
		p("VMOVUPS %s, %d(%s)", z(i), 64*i, ab)
	}
}

func forward() {
	fn = "flashFwd32"
	fmt.Fprintf(&out, `
// func flashFwd32(qt, k, v *float32, nk int, ot, ml, kbias *float32)
// For the 32 queries of qt, over keys 0…nk−1 (nk a multiple of 8) of k
// and v: the online softmax. ml holds the running maximum m[32] and sum
// l[32] (in and out); ot the unnormalised context, transposed; kbias, if
// not nil, nk floats added to the keys' scores (0 or −Inf: a key mask).
TEXT ·flashFwd32(SB), NOSPLIT, $0-56
`)
	p("MOVQ qt+0(FP), AX")
	p("MOVQ k+8(FP), SI")
	p("MOVQ v+16(FP), DI")
	p("MOVQ nk+24(FP), CX")
	p("MOVQ ot+32(FP), DX")
	p("MOVQ ml+40(FP), R8")
	p("MOVQ kbias+48(FP), R9")
	p("VBROADCASTSS %s, Z31", c("expLo"))
	p("VMOVUPS (R8), Z20")
	p("VMOVUPS 64(R8), Z21")
	p("VMOVUPS 128(R8), Z22")
	p("VMOVUPS 192(R8), Z23")
	label("flashFwd32_loop")
	p("CMPQ CX, $8")
	p("JL flashFwd32_done")
	tileProduct("SI", "AX", "BX", "R10", "R11")
	p("TESTQ R9, R9")
	p("JZ flashFwd32_nobias")
	keyBias("R9")
	p("ADDQ $32, R9")
	label("flashFwd32_nobias")
	// Tile maximum per query, then the new running maximum.
	p("VMAXPS Z2, Z0, Z18")
	p("VMAXPS Z3, Z1, Z19")
	for r := 2; r < 8; r++ {
		p("VMAXPS %s, Z18, Z18", z(2*r))
		p("VMAXPS %s, Z19, Z19", z(2*r+1))
	}
	// The shift moves only when a score passes it by more than lazyShift
	// (then to the running maximum): the weights e^(s − m) stay below
	// e^lazyShift, and most tiles skip the rescaling and its branch.
	p("VADDPS.BCST %s, Z20, Z24", c("lazyShift"))
	p("VADDPS.BCST %s, Z21, Z25", c("lazyShift"))
	p("VCMPPS $0x0e, Z24, Z18, K1")
	p("VCMPPS $0x0e, Z25, Z19, K2")
	p("KORTESTW K1, K2")
	p("JEQ flashFwd32_keep")
	p("VMAXPS Z20, Z18, Z18")
	p("VMAXPS Z21, Z19, Z19")
	// Some shift moved: rescale l and the context by e^(m_old − m_new).
	p("VSUBPS Z18, Z20, Z24")
	p("VSUBPS Z19, Z21, Z25")
	exp("Z24", "Z26", "Z27", "Z28")
	exp("Z25", "Z26", "Z27", "Z28")
	p("VMULPS Z24, Z22, Z22")
	p("VMULPS Z25, Z23, Z23")
	for cc := 0; cc < 32; cc++ {
		p("VMULPS %d(DX), Z24, Z26", cc*128)
		p("VMULPS %d(DX), Z25, Z27", cc*128+64)
		p("VMOVUPS Z26, %d(DX)", cc*128)
		p("VMOVUPS Z27, %d(DX)", cc*128+64)
	}
	p("VMOVAPS Z18, Z20")
	p("VMOVAPS Z19, Z21")
	label("flashFwd32_keep")
	for i := 0; i < 16; i++ {
		p("VSUBPS %s, %s, %s", z(20+i%2), z(i), z(i))
		exp(z(i), "Z24", "Z25", "Z26")
	}
	for r := 0; r < 8; r++ {
		p("VADDPS %s, Z22, Z22", z(2*r))
		p("VADDPS %s, Z23, Z23", z(2*r+1))
	}
	colsUpdate("DX", "DI", "BX", "R10", "R11")
	p("ADDQ $1024, SI")
	p("ADDQ $1024, DI")
	p("SUBQ $8, CX")
	p("JMP flashFwd32_loop")
	label("flashFwd32_done")
	p("VMOVUPS Z20, (R8)")
	p("VMOVUPS Z21, 64(R8)")
	p("VMOVUPS Z22, 128(R8)")
	p("VMOVUPS Z23, 192(R8)")
	p("VZEROUPPER")
	p("RET")
}

func backward() {
	fn = "flashBwd32"
	fmt.Fprintf(&out, `
// func flashBwd32(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias *float32, nsub int)
// For the 32 queries of a block and nsub tiles of 8 keys (k, v, dk, dv
// advance by one tile each), with the tile's weights recomputed as
// P = e^(S − lse): dv += Pᵀ·do, dS = P ⊙ (dP − D) with dP = do·vᵀ,
// dk += dSᵀ·q, dqt += (dS·k)ᵀ (dk, dqt without the scale). qt and dot are
// the block's scaled queries and upstream gradients transposed, q and do
// the same by rows; lsed holds lse[32] then D[32]; scr is 1 KiB of
// scratch; kbias as flashFwd32's (nil: none).
TEXT ·flashBwd32(SB), NOSPLIT, $0-104
`)
	p("MOVQ qt+0(FP), AX")
	p("MOVQ dot+8(FP), BX")
	p("MOVQ q+16(FP), CX")
	p("MOVQ do+24(FP), DX")
	p("MOVQ lsed+32(FP), R13")
	p("MOVQ k+40(FP), SI")
	p("MOVQ v+48(FP), DI")
	p("MOVQ dk+56(FP), R8")
	p("MOVQ dv+64(FP), R9")
	p("MOVQ dqt+72(FP), R10")
	p("MOVQ scr+80(FP), R11")
	p("VBROADCASTSS %s, Z31", c("expLo"))
	p("VMOVUPS (R13), Z20")
	p("VMOVUPS 64(R13), Z21")
	p("VMOVUPS 128(R13), Z22")
	p("VMOVUPS 192(R13), Z23")
	label("flashBwd32_loop")
	p("CMPQ nsub+96(FP), $0")
	p("JEQ flashBwd32_done")
	// P = e^(S − lse), kept in the scratch tile.
	tileProduct("SI", "AX", "R12", "R13", "R14")
	p("MOVQ kbias+88(FP), R12")
	p("TESTQ R12, R12")
	p("JZ flashBwd32_nobias")
	keyBias("R12")
	p("ADDQ $32, R12")
	p("MOVQ R12, kbias+88(FP)")
	label("flashBwd32_nobias")
	for i := 0; i < 16; i++ {
		p("VSUBPS %s, %s, %s", z(20+i%2), z(i), z(i))
		exp(z(i), "Z24", "Z25", "Z26")
		p("VMOVUPS %s, %d(R11)", z(i), 64*i)
	}
	// dv += Pᵀ·do
	rowsUpdate("R9", "R11", "DX", "R12", "R13", "R14")
	// dS = P ⊙ (do·vᵀ − D), into the scratch tile.
	tileProduct("DI", "BX", "R12", "R13", "R14")
	for i := 0; i < 16; i++ {
		p("VSUBPS %s, %s, %s", z(22+i%2), z(i), z(i))
		p("VMULPS %d(R11), %s, %s", 64*i, z(i), z(i))
		p("VMOVUPS %s, %d(R11)", z(i), 64*i)
	}
	// dqt += (dS·k)ᵀ, with dS in Z0…Z15.
	colsUpdate("R10", "SI", "R12", "R13", "R14")
	// dk += dSᵀ·q
	rowsUpdate("R8", "R11", "CX", "R12", "R13", "R14")
	p("ADDQ $1024, SI")
	p("ADDQ $1024, DI")
	p("ADDQ $1024, R8")
	p("ADDQ $1024, R9")
	p("DECQ nsub+96(FP)")
	p("JMP flashBwd32_loop")
	label("flashBwd32_done")
	p("VZEROUPPER")
	p("RET")
}

func main() {
	fmt.Fprintf(&out, "// Code generated by flash_asmgen.go; DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n\n")
	for i, k := range consts {
		fmt.Fprintf(&out, "DATA flashConst<>+%d(SB)/4, $0x%08x\n", 4*i, math.Float32bits(float32(k.v)))
	}
	fmt.Fprintf(&out, "GLOBL flashConst<>(SB), RODATA|NOPTR, $%d\n", 4*len(consts))
	forward()
	backward()
	s := strings.ReplaceAll(out.String(), "\n\n\n", "\n\n")
	if err := os.WriteFile("flash_amd64.s", []byte(s), 0o644); err != nil {
		log.Fatal(err)
	}
}

func atoi(s string, def int) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		return def
	}
	return n
}

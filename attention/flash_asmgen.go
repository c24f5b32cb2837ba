//go:build ignore

// flash_asmgen writes flash_amd64.s: the AVX-512 and AVX2 tile kernels of
// the fused flash attention for heads of 32 (flash32.go). Run it with `go
// generate` in attention/ after changing it.
//
// The AVX-512 kernels (flashFwd32, flashBwd32) work on a tile of 8 keys ×
// 32 queries held transposed: one key per pair of zmm registers, the 32
// queries in their lanes, so that the online softmax's maximum and sum
// over keys are vertical (no horizontal reductions) and a query's shift
// (its running maximum, or its log-sum-exp) is a vector. Every operand is packed by the caller into
// contiguous 128-byte rows (32 floats), so every address is a constant
// displacement from one base register:
//
//	qt   [32 dims][32 queries]  the queries' block, transposed, times the scale
//	k, v [keys][32]             a head's keys and values, row by row
//	ot   [32 dims][32 queries]  the forward's unnormalised context, transposed
//
// exp is vmath's (tensor/vmath_asmgen.go): x clamped below at −104 (so
// e^(−Inf) and e^(−Inf−m) are exactly 0), n = round(x·log2e), Cody–Waite
// reduction, Cephes' degree-5 polynomial, VSCALEFPS. Their AVX2 twins
// (flashFwd32y, flashBwd32y; same arguments and layouts) are described
// above forward256.
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

// The AVX2 kernels (names ending in y) take the same arguments and do the
// same work with 16 ymm registers of 8 lanes: a tile is 4 keys × 16
// queries (one key per pair of ymm registers), the 32 queries of a block
// go through in two halves (byte offset co = 64·half in every
// [..][32 queries] row), and the running maximum, sum, log-sum-exp and D
// stay in memory (ml, lsed) as operands instead of registers. exp is
// vmath's AVX2 one: VROUNDPS, and 2ⁿ as two exponent-field products
// 2^⌊n/2⌋·2^(n−⌊n/2⌋), so e^(−104) is still exactly 0. Y15 holds −104.

func y(i int) string { return fmt.Sprintf("Y%d", i) }

// c256 names a 32-byte row of the AVX2 constant table.
func c256(name string) string {
	for i, k := range consts256 {
		if k.name == name {
			return fmt.Sprintf("flashConst256<>+%d(SB)", 32*i)
		}
	}
	log.Fatalf("no constant %s", name)
	return ""
}

// consts256 are rows of 8 equal lanes; bias is the integer 127.
var consts256 = []konst{
	{"one", 1},
	{"lazyShift", 8},
	{"log2e", 1.44269504088896341},
	{"ln2Hi", 0.693359375},
	{"ln2Lo", -2.12194440e-4},
	{"expP0", 1.9875691500e-4},
	{"expP1", 1.3981999507e-3},
	{"expP2", 8.3334519073e-3},
	{"expP3", 4.1665795894e-2},
	{"expP4", 1.6666665459e-1},
	{"expP5", 5.0000001201e-1},
	{"bias", 0}, // integer 127, written specially
}

// exp256 replaces x by eˣ; n, q, t are scratch; Y15 holds −104.
func exp256(x, n, q, t string) {
	p("VMAXPS %s, Y15, %s", x, x)
	p("VMULPS %s, %s, %s", c256("log2e"), x, n)
	p("VROUNDPS $0, %s, %s", n, n)
	p("VFNMADD231PS %s, %s, %s", c256("ln2Hi"), n, x)
	p("VFNMADD231PS %s, %s, %s", c256("ln2Lo"), n, x)
	p("VMOVUPS %s, %s", c256("expP0"), q)
	for _, k := range []string{"expP1", "expP2", "expP3", "expP4", "expP5"} {
		p("VFMADD213PS %s, %s, %s", c256(k), x, q)
	}
	p("VMULPS %s, %s, %s", x, x, t)
	p("VFMADD213PS %s, %s, %s", x, t, q)
	p("VADDPS %s, %s, %s", c256("one"), q, q)
	p("VCVTPS2DQ %s, %s", n, n)
	p("VPSRAD $1, %s, %s", n, t)
	p("VPSUBD %s, %s, %s", t, n, n)
	p("VPADDD %s, %s, %s", c256("bias"), t, t)
	p("VPSLLD $23, %s, %s", t, t)
	p("VPADDD %s, %s, %s", c256("bias"), n, n)
	p("VPSLLD $23, %s, %s", n, n)
	p("VMULPS %s, %s, %s", t, q, q)
	p("VMULPS %s, %s, %s", n, q, x)
}

// tileProduct256 writes to Y0…Y7 the tile Σ_c rows[r][c] · cols[c][co:co+16]
// for 4 rows r (32 floats each at base rb) and 32 rows c of cols (at base
// cb, co a byte offset), key r in Y(2r) (queries 0–7 of the half) and
// Y(2r+1) (8–15). Y8–Y11 are scratch, and t1, t2, n.
func tileProduct256(rb, cb string, co int, t1, t2, n string) {
	for i := 0; i < 8; i++ {
		p("VXORPS %s, %s, %s", y(i), y(i), y(i))
	}
	rowsTimesCols256(rb, cb, co, t1, t2, n)
}

// rowsTimesCols256 adds to Y0…Y7 (4 rows of 16 lanes, row r in Y(2r) and
// Y(2r+1)) Σ_c rows[r][c] · cols[c][co:co+16], for 4 rows of 32 at base
// rb and 32 rows c of cols at base cb: tileProduct256's and
// rowsUpdate256's loop. Y8–Y11 are scratch, and t1, t2, n.
func rowsTimesCols256(rb, cb string, co int, t1, t2, n string) {
	p("MOVQ %s, %s", rb, t1)
	p("MOVQ %s, %s", cb, t2)
	loop(n, func(u int) {
		p("VMOVUPS %d(%s), Y8", u*128+co, t2)
		p("VMOVUPS %d(%s), Y9", u*128+co+32, t2)
		for r := 0; r < 4; r++ {
			b := y(10 + r%2)
			p("VBROADCASTSS %d(%s), %s", r*128+4*u, t1, b)
			p("VFMADD231PS %s, Y8, %s", b, y(2*r))
			p("VFMADD231PS %s, Y9, %s", b, y(2*r+1))
		}
	}, func() {
		p("ADDQ $%d, %s", 4*roll, t1)
		p("ADDQ $%d, %s", 128*roll, t2)
	})
}

// keyBias256 adds bias[r] (4 floats at base bb) to key r of the tile.
func keyBias256(bb string) {
	for r := 0; r < 4; r++ {
		p("VBROADCASTSS %d(%s), Y10", 4*r, bb)
		p("VADDPS Y10, %s, %s", y(2*r), y(2*r))
		p("VADDPS Y10, %s, %s", y(2*r+1), y(2*r+1))
	}
}

// colsUpdate256 does acc[c][co:co+16] += Σ_r rows[r][c] · tile_r for c =
// 0…31 (acc: 32 rows of 32 at base ab; rows: 4 rows of 32 at base rb),
// the tile in Y0…Y7. Y8–Y13 are scratch, and t1, t2, n.
func colsUpdate256(ab, rb string, co int, t1, t2, n string) {
	p("MOVQ %s, %s", ab, t1)
	p("MOVQ %s, %s", rb, t2)
	loop(n, func(cc int) {
		if cc%2 == 1 {
			return
		}
		acc := [2][2]string{{"Y8", "Y9"}, {"Y12", "Y13"}}
		for u := 0; u < 2; u++ {
			p("VMOVUPS %d(%s), %s", (cc+u)*128+co, t1, acc[u][0])
			p("VMOVUPS %d(%s), %s", (cc+u)*128+co+32, t1, acc[u][1])
		}
		for r := 0; r < 4; r++ {
			for u := 0; u < 2; u++ {
				b := y(10 + u)
				p("VBROADCASTSS %d(%s), %s", r*128+4*(cc+u), t2, b)
				p("VFMADD231PS %s, %s, %s", b, y(2*r), acc[u][0])
				p("VFMADD231PS %s, %s, %s", b, y(2*r+1), acc[u][1])
			}
		}
		for u := 0; u < 2; u++ {
			p("VMOVUPS %s, %d(%s)", acc[u][0], (cc+u)*128+co, t1)
			p("VMOVUPS %s, %d(%s)", acc[u][1], (cc+u)*128+co+32, t1)
		}
	}, func() {
		p("ADDQ $%d, %s", 128*roll, t1)
		p("ADDQ $%d, %s", 4*roll, t2)
	})
}

// rowsUpdate256 does acc[r][e:e+16] += Σ_i tile[r][i] · rows[i][e:e+16]
// for the 4 keys r and the half e (a byte offset, 0 or 64) of the 32
// columns (acc: 4 rows of 32 at base ab; the tile as 4 rows of 32 queries
// at base tb; rows: 32 rows of 32 at base xb). Y0…Y11 are used, and t1,
// t2, n.
func rowsUpdate256(ab, tb, xb string, e int, t1, t2, n string) {
	for r := 0; r < 4; r++ {
		p("VMOVUPS %d(%s), %s", r*128+e, ab, y(2*r))
		p("VMOVUPS %d(%s), %s", r*128+e+32, ab, y(2*r+1))
	}
	rowsTimesCols256(tb, xb, e, t1, t2, n)
	for r := 0; r < 4; r++ {
		p("VMOVUPS %s, %d(%s)", y(2*r), r*128+e, ab)
		p("VMOVUPS %s, %d(%s)", y(2*r+1), r*128+e+32, ab)
	}
}

func forward256() {
	fn = "flashFwd32y"
	fmt.Fprintf(&out, `
// func flashFwd32y(qt, k, v *float32, nk int, ot, ml, kbias *float32)
// flashFwd32 with AVX2 (nk a multiple of 4).
TEXT ·flashFwd32y(SB), NOSPLIT, $0-56
`)
	p("MOVQ ot+32(FP), DX")
	p("MOVQ ml+40(FP), R8")
	p("VBROADCASTSS %s, Y15", c("expLo"))
	for h := 0; h < 2; h++ {
		co := 64 * h
		loopL, doneL := fmt.Sprintf("flashFwd32y_loop%d", h), fmt.Sprintf("flashFwd32y_done%d", h)
		nobiasL, keepL := fmt.Sprintf("flashFwd32y_nobias%d", h), fmt.Sprintf("flashFwd32y_keep%d", h)
		p("MOVQ qt+0(FP), AX")
		p("MOVQ k+8(FP), SI")
		p("MOVQ v+16(FP), DI")
		p("MOVQ nk+24(FP), CX")
		p("MOVQ kbias+48(FP), R9")
		label(loopL)
		p("CMPQ CX, $4")
		p("JL %s", doneL)
		tileProduct256("SI", "AX", co, "BX", "R10", "R11")
		p("TESTQ R9, R9")
		p("JZ %s", nobiasL)
		keyBias256("R9")
		p("ADDQ $16, R9")
		label(nobiasL)
		// Tile maximum per query (Y10, Y11); the running maximum m is
		// at ml+co.
		p("VMAXPS Y2, Y0, Y10")
		p("VMAXPS Y3, Y1, Y11")
		for r := 2; r < 4; r++ {
			p("VMAXPS %s, Y10, Y10", y(2*r))
			p("VMAXPS %s, Y11, Y11", y(2*r+1))
		}
		p("VMOVUPS %d(R8), Y8", co)
		p("VMOVUPS %d(R8), Y9", co+32)
		p("VADDPS %s, Y8, Y12", c256("lazyShift"))
		p("VADDPS %s, Y9, Y13", c256("lazyShift"))
		p("VCMPPS $0x0e, Y12, Y10, Y12")
		p("VCMPPS $0x0e, Y13, Y11, Y13")
		p("VORPS Y12, Y13, Y12")
		p("VMOVMSKPS Y12, BX")
		p("TESTL BX, BX")
		p("JEQ %s", keepL)
		p("VMAXPS Y8, Y10, Y10")
		p("VMAXPS Y9, Y11, Y11")
		p("VSUBPS Y10, Y8, Y8")
		p("VSUBPS Y11, Y9, Y9")
		exp256("Y8", "Y12", "Y13", "Y14")
		exp256("Y9", "Y12", "Y13", "Y14")
		p("VMOVUPS Y10, %d(R8)", co)
		p("VMOVUPS Y11, %d(R8)", co+32)
		p("VMULPS %d(R8), Y8, Y12", 128+co)
		p("VMULPS %d(R8), Y9, Y13", 128+co+32)
		p("VMOVUPS Y12, %d(R8)", 128+co)
		p("VMOVUPS Y13, %d(R8)", 128+co+32)
		for cc := 0; cc < 32; cc++ {
			p("VMULPS %d(DX), Y8, Y12", cc*128+co)
			p("VMULPS %d(DX), Y9, Y13", cc*128+co+32)
			p("VMOVUPS Y12, %d(DX)", cc*128+co)
			p("VMOVUPS Y13, %d(DX)", cc*128+co+32)
		}
		label(keepL)
		for i := 0; i < 8; i++ {
			p("VSUBPS %d(R8), %s, %s", co+32*(i%2), y(i), y(i))
			exp256(y(i), "Y12", "Y13", "Y14")
		}
		p("VMOVUPS %d(R8), Y12", 128+co)
		p("VMOVUPS %d(R8), Y13", 128+co+32)
		for r := 0; r < 4; r++ {
			p("VADDPS %s, Y12, Y12", y(2*r))
			p("VADDPS %s, Y13, Y13", y(2*r+1))
		}
		p("VMOVUPS Y12, %d(R8)", 128+co)
		p("VMOVUPS Y13, %d(R8)", 128+co+32)
		colsUpdate256("DX", "DI", co, "BX", "R10", "R11")
		p("ADDQ $512, SI")
		p("ADDQ $512, DI")
		p("SUBQ $4, CX")
		p("JMP %s", loopL)
		label(doneL)
	}
	p("VZEROUPPER")
	p("RET")
}

func backward256() {
	fn = "flashBwd32y"
	fmt.Fprintf(&out, `
// func flashBwd32y(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias *float32, nsub int)
// flashBwd32 with AVX2: each tile of 8 keys as two of 4.
TEXT ·flashBwd32y(SB), NOSPLIT, $0-104
`)
	p("MOVQ k+40(FP), SI")
	p("MOVQ v+48(FP), DI")
	p("MOVQ dk+56(FP), R8")
	p("MOVQ dv+64(FP), R9")
	p("MOVQ lsed+32(FP), R13")
	p("MOVQ scr+80(FP), R11")
	p("MOVQ nsub+96(FP), CX")
	p("SHLQ $1, CX")
	p("VBROADCASTSS %s, Y15", c("expLo"))
	label("flashBwd32y_loop")
	p("TESTQ CX, CX")
	p("JEQ flashBwd32y_done")
	// P = e^(S − lse) into the scratch tile [4 keys][32 queries].
	for h := 0; h < 2; h++ {
		co := 64 * h
		p("MOVQ qt+0(FP), AX")
		tileProduct256("SI", "AX", co, "R12", "R14", "BX")
		nb := fmt.Sprintf("flashBwd32y_nobias%d", h)
		p("MOVQ kbias+88(FP), DX")
		p("TESTQ DX, DX")
		p("JZ %s", nb)
		keyBias256("DX")
		label(nb)
		for i := 0; i < 8; i++ {
			p("VSUBPS %d(R13), %s, %s", co+32*(i%2), y(i), y(i))
			exp256(y(i), "Y12", "Y13", "Y14")
			p("VMOVUPS %s, %d(R11)", y(i), (i/2)*128+co+32*(i%2))
		}
	}
	// dv += Pᵀ·do
	p("MOVQ do+24(FP), DX")
	rowsUpdate256("R9", "R11", "DX", 0, "R12", "R14", "BX")
	rowsUpdate256("R9", "R11", "DX", 64, "R12", "R14", "BX")
	// dS = P ⊙ (do·vᵀ − D) into the scratch tile; dqt += (dS·k)ᵀ.
	for h := 0; h < 2; h++ {
		co := 64 * h
		p("MOVQ dot+8(FP), AX")
		tileProduct256("DI", "AX", co, "R12", "R14", "BX")
		for i := 0; i < 8; i++ {
			o := (i/2)*128 + co + 32*(i%2)
			p("VSUBPS %d(R13), %s, %s", 128+co+32*(i%2), y(i), y(i))
			p("VMULPS %d(R11), %s, %s", o, y(i), y(i))
			p("VMOVUPS %s, %d(R11)", y(i), o)
		}
		p("MOVQ dqt+72(FP), AX")
		colsUpdate256("AX", "SI", co, "R12", "R14", "BX")
	}
	// dk += dSᵀ·q
	p("MOVQ q+16(FP), DX")
	rowsUpdate256("R8", "R11", "DX", 0, "R12", "R14", "BX")
	rowsUpdate256("R8", "R11", "DX", 64, "R12", "R14", "BX")
	p("ADDQ $512, SI")
	p("ADDQ $512, DI")
	p("ADDQ $512, R8")
	p("ADDQ $512, R9")
	p("MOVQ kbias+88(FP), DX")
	p("TESTQ DX, DX")
	p("JZ flashBwd32y_next")
	p("ADDQ $16, DX")
	p("MOVQ DX, kbias+88(FP)")
	label("flashBwd32y_next")
	p("DECQ CX")
	p("JMP flashBwd32y_loop")
	label("flashBwd32y_done")
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
	for i, k := range consts256 {
		bits := math.Float32bits(float32(k.v))
		if k.name == "bias" {
			bits = 127
		}
		for l := 0; l < 8; l++ {
			fmt.Fprintf(&out, "DATA flashConst256<>+%d(SB)/4, $0x%08x\n", 32*i+4*l, bits)
		}
	}
	fmt.Fprintf(&out, "GLOBL flashConst256<>(SB), RODATA|NOPTR, $%d\n", 32*len(consts256))
	forward256()
	backward256()
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

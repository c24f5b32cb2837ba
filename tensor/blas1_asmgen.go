//go:build ignore

// blas1_asmgen writes blas1_amd64.s and blas1_kernels_amd64.go: the
// kernels of the memory-bound passes of a training step (adds, gradient
// accumulation, ReLU, sums of squares, the Adam update), each twice:
// AVX-512F on 16 lanes (names ending in 512) and AVX2+FMA on 8 lanes
// (ending in 256). (The LayerNorm rows and the row sums are written by
// hand in layernorm_amd64.s and sumrows_amd64.s, for both as well.) Run it
// with `go generate` in tensor/ (see blas1.go) after changing it.
//
// A streaming kernel walks its slices four vectors (64 floats, or 32 with
// AVX2) at a time, then one vector at a time, then finishes the last n mod
// 16 (8) elements with masked loads and stores (opmask K1, or VMASKMOVPS
// with a mask from tailMask256), so every element goes through the same
// instructions whatever the length or alignment. On CPUs with neither the
// Go loops of blas1.go run instead.
//
// One description serves both: the AVX2 kernel is the AVX-512 body with
// its Z registers renamed to Y registers (kernel.y), unless the body uses
// what AVX2 lacks (opmask compares, 512-bit extracts) and the kernel gives
// body256 instead, computing every element with the same operations in
// the same order. In the AVX2 tail a masked memory operand becomes a
// VMASKMOVPS load into tmp256 first. The AVX-512 output does not depend on
// the AVX2 fields.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"regexp"
	"strings"
)

// isa is one instruction set a kernel is written for.
type isa struct {
	name string // suffix in function names
	vlen int    // float32 lanes per vector
	k512 bool
}

var (
	avx512 = isa{name: "512", vlen: 16, k512: true}
	avx2   = isa{name: "256", vlen: 8}
)

// arg is one argument of a kernel: a *float32 (ptr) with its register, or
// a float32 scalar broadcast into a Z register before the loop.
type arg struct {
	name  string
	ptr   bool
	fixed bool   // a pointer the loop does not advance (constants)
	count bool   // the element count n
	reg   string // GP register (ptr) or Z register (scalar)
}

// kernel is one streaming kernel. body returns the instructions for vector
// v (0..3) of an iteration: "%o" in a memory operand stands for the
// vector's byte offset, "%z" names a mask suffix for loads (", K1" in the
// tail, "" otherwise) and "%s" for stores; registers Z(v*4) to Z(v*4+3) are
// the vector's scratch registers.
type kernel struct {
	name string // without the ISA suffix
	sig  string // parameters and result, as in the Go declaration
	args []arg
	pre  []string // before the loop (scalars are broadcast already)
	body func(v int) []string
	// ret, when set, reduces the accumulators after the loop and stores the
	// result (the function returns a value).
	ret    []string
	retSig string

	// The AVX2 variant. y renames the Z registers of args, pre, ret and
	// body (Zn not listed becomes Yn, n < 16); body256 and ret256, when
	// set, replace body and ret (written with Y registers). u256 is the
	// number of vectors of the unrolled loop (4 if 0); the tail keeps its
	// lane mask in mask256 and loads a masked memory operand into tmp256
	// (Y14 and Y13 if empty), which must be free in the tail.
	y       map[string]string
	body256 func(v int) []string
	ret256  []string
	u256    int
	mask256 string
	tmp256  string
}

var out bytes.Buffer

func p(format string, a ...any) { fmt.Fprintf(&out, format+"\n", a...) }

func z(i int) string { return fmt.Sprintf("Z%d", i) }

func y(i int) string { return fmt.Sprintf("Y%d", i) }

func sub(line string, v int, tail bool) string {
	off := fmt.Sprint(64 * v)
	if v == 0 {
		off = ""
	}
	masked := strings.Contains(line, "%z")
	line = strings.ReplaceAll(line, "%o", off)
	if !tail {
		return strings.ReplaceAll(line, "%z", "")
	}
	// Masked memory accesses: loads zero the other lanes (and fault on
	// none of them), stores leave them alone. The mask goes before the
	// last operand.
	line = strings.ReplaceAll(line, "%z", ".Z")
	store := strings.HasPrefix(line, "VMOVUPS Z")
	if masked || store {
		i := strings.LastIndex(line, ", ")
		line = line[:i] + ", K1" + line[i:]
	}
	return line
}

// sub256 is sub for AVX2: a masked load is a VMASKMOVPS (masked lanes
// read as zeros, fault on nothing), an operation with a masked memory
// operand loads it into tmp first, and a store is a VMASKMOVPS (the other
// lanes are left alone).
func sub256(line string, v int, tail bool, mask, tmp string) []string {
	off := fmt.Sprint(32 * v)
	if v == 0 {
		off = ""
	}
	masked := strings.Contains(line, "%z")
	line = strings.ReplaceAll(line, "%z", "")
	line = strings.ReplaceAll(line, "%o", off)
	if !tail {
		return []string{line}
	}
	op, operands, _ := strings.Cut(line, " ")
	first, rest, _ := strings.Cut(operands, ", ")
	switch {
	case masked && op == "VMOVUPS":
		return []string{fmt.Sprintf("VMASKMOVPS %s, %s, %s", first, mask, rest)}
	case masked:
		return []string{
			fmt.Sprintf("VMASKMOVPS %s, %s, %s", first, mask, tmp),
			fmt.Sprintf("%s %s, %s", op, tmp, rest),
		}
	case op == "VMOVUPS" && strings.HasPrefix(first, "Y"):
		return []string{fmt.Sprintf("VMASKMOVPS %s, %s, %s", first, mask, rest)}
	}
	return []string{line}
}

var zreg = regexp.MustCompile(`\bZ([0-9]+)\b`)

// rename maps the Z registers of line to Y registers for AVX2.
func (k kernel) rename(line string) string {
	return zreg.ReplaceAllStringFunc(line, func(r string) string {
		if to, ok := k.y[r]; ok {
			return to
		}
		var n int
		fmt.Sscanf(r[1:], "%d", &n)
		if n >= 16 {
			log.Fatalf("%s: %s has no AVX2 register (kernel.y)", k.name, r)
		}
		return y(n)
	})
}

var regNum = regexp.MustCompile(`\b[XY]([0-9]+)\b`)

// uses reports whether any of lines names the vector register reg (as an
// X or Y register).
func uses(lines []string, reg string) bool {
	for _, l := range lines {
		for _, m := range regNum.FindAllStringSubmatch(l, -1) {
			if m[1] == reg[1:] {
				return true
			}
		}
	}
	return false
}

var gpReg = regexp.MustCompile(`\b[A-Z0-9]+\b`)

// usesGP reports whether any of lines names the general register reg.
func usesGP(lines []string, reg string) bool {
	for _, l := range lines {
		for _, m := range gpReg.FindAllString(l, -1) {
			if m == reg {
				return true
			}
		}
	}
	return false
}

func emit(k kernel, s isa) {
	name := k.name + s.name
	var ptrs []arg
	p("// func %s%s", name, k.sig)
	frame := 0
	for _, a := range k.args {
		switch {
		case a.ptr || a.count:
			frame += 8
		default:
			frame += 4
		}
	}
	retOff := (frame + 7) &^ 7
	if k.retSig != "" {
		frame = retOff + 8
	}
	// AVX2: rename the registers of the AVX-512 description, or take the
	// kernel's own body.
	body, ret, ren := k.body, k.ret, func(l string) string { return l }
	u, mask, tmp := 4, k.mask256, k.tmp256
	if !s.k512 {
		ren = k.rename
		if k.body256 != nil {
			body = k.body256
		}
		if k.ret256 != nil {
			ret = k.ret256
		}
		if k.u256 != 0 {
			u = k.u256
		}
		if mask == "" {
			mask = "Y14"
		}
		if tmp == "" {
			tmp = "Y13"
		}
	}
	lines := func(v int, tail bool) []string {
		var l []string
		for _, b := range body(v) {
			b = ren(b)
			if s.k512 {
				l = append(l, sub(b, v, tail))
			} else {
				l = append(l, sub256(b, v, tail, mask, tmp)...)
			}
		}
		return l
	}
	p("TEXT ·%s(SB), NOSPLIT, $0-%d", name, frame)
	off := 0
	var live []string // registers the tail must not clobber
	for _, a := range k.args {
		switch {
		case a.count:
			p("\tMOVQ n+%d(FP), CX", off)
			off += 8
		case a.ptr:
			p("\tMOVQ %s+%d(FP), %s", a.name, off, a.reg)
			if !a.fixed {
				ptrs = append(ptrs, a)
			}
			off += 8
		default:
			p("\tVBROADCASTSS %s+%d(FP), %s", a.name, off, ren(a.reg))
			live = append(live, ren(a.reg))
			off += 4
		}
	}
	for _, l := range k.pre {
		p("\t%s", ren(l))
		live = append(live, ren(l))
	}
	if !s.k512 {
		var b0 []string
		for _, l := range body(0) {
			b0 = append(b0, ren(l))
		}
		for _, r := range []string{mask, tmp} {
			if uses(live, r) || uses(b0, r) {
				log.Fatalf("%s: %s is not free in the tail", name, r)
			}
		}
	}
	// The tail sets its mask through AX (and BX with AVX2): no pointer the
	// loop advances may live there, and neither the body nor the
	// reduction after the tail may read them.
	var after []string
	for v := range u {
		after = append(after, lines(v, false)...)
	}
	after = append(after, ret...)
	for _, a := range k.args {
		if a.ptr && !a.fixed && (a.reg == "AX" || a.reg == "BX") {
			log.Fatalf("%s: pointer %s in %s, which the tail overwrites", name, a.name, a.reg)
		}
	}
	for _, r := range []string{"AX", "BX"} {
		if usesGP(after, r) {
			log.Fatalf("%s: the loop or the reduction reads %s, which the tail overwrites", name, r)
		}
	}
	adv := func(bytes int) {
		for _, a := range ptrs {
			p("\tADDQ $%d, %s", bytes, a.reg)
		}
	}
	vbytes := 4 * s.vlen
	if u > 1 {
		p("%s_loop4:", name)
		p("\tCMPQ CX, $%d", u*s.vlen)
		p("\tJL %s_loop1", name)
		bodies := make([][]string, u)
		for v := range bodies {
			bodies[v] = lines(v, false)
		}
		// Interleave the vectors' instructions line by line.
		for i := 0; i < len(bodies[0]); i++ {
			for v := 0; v < u; v++ {
				p("\t%s", bodies[v][i])
			}
		}
		adv(u * vbytes)
		p("\tSUBQ $%d, CX", u*s.vlen)
		p("\tJMP %s_loop4", name)
	}
	p("%s_loop1:", name)
	p("\tCMPQ CX, $%d", s.vlen)
	p("\tJL %s_tail", name)
	for _, l := range lines(0, false) {
		p("\t%s", l)
	}
	adv(vbytes)
	p("\tSUBQ $%d, CX", s.vlen)
	p("\tJMP %s_loop1", name)
	p("%s_tail:", name)
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", name)
	if s.k512 {
		p("\tMOVQ $1, AX")
		p("\tSHLQ CX, AX")
		p("\tDECQ AX")
		p("\tKMOVW AX, K1")
	} else {
		p("\tLEAQ ·tailMask256(SB), AX")
		p("\tMOVQ $8, BX")
		p("\tSUBQ CX, BX")
		p("\tVMOVDQU (AX)(BX*4), %s", mask)
	}
	for _, l := range lines(0, true) {
		p("\t%s", l)
	}
	p("%s_done:", name)
	for _, l := range ret {
		p("\t%s", strings.ReplaceAll(ren(l), "%ret", fmt.Sprintf("ret+%d(FP)", retOff)))
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

func ptr(name, reg string) arg  { return arg{name: name, ptr: true, reg: reg} }
func scal(name, reg string) arg { return arg{name: name, reg: reg} }

var count = arg{name: "n", count: true}

// hsumPD reduces the float64 accumulators Z16..Z19 into X0 (low lane).
var hsumPD = []string{
	"VADDPD Z17, Z16, Z0",
	"VADDPD Z19, Z18, Z1",
	"VADDPD Z1, Z0, Z0",
	"VEXTRACTF64X4 $1, Z0, Y1",
	"VADDPD Y1, Y0, Y0",
	"VEXTRACTF128 $1, Y0, X1",
	"VADDPD X1, X0, X0",
	"VPERMILPD $1, X0, X1",
	"VADDSD X1, X0, X0",
}

var kernels = []kernel{
	{
		name: "vadd", sig: "(dst, a, b *float32, n int)",
		args: []arg{ptr("dst", "DI"), ptr("a", "SI"), ptr("b", "DX"), count},
		body: func(v int) []string {
			r := z(4 * v)
			return []string{
				"VMOVUPS%z %o(SI), " + r,
				"VADDPS%z %o(DX), " + r + ", " + r,
				"VMOVUPS " + r + ", %o(DI)",
			}
		},
	},
	{
		name: "vacc", sig: "(dst, x *float32, n int)",
		args: []arg{ptr("dst", "DI"), ptr("x", "SI"), count},
		body: func(v int) []string {
			r := z(4 * v)
			return []string{
				"VMOVUPS%z %o(DI), " + r,
				"VADDPS%z %o(SI), " + r + ", " + r,
				"VMOVUPS " + r + ", %o(DI)",
			}
		},
	},
	{
		name: "vaxpy", sig: "(dst, x *float32, n int, s float32)",
		y:    map[string]string{"Z31": "Y15"},
		args: []arg{ptr("dst", "DI"), ptr("x", "SI"), count, scal("s", "Z31")},
		body: func(v int) []string {
			r, x := z(4*v), z(4*v+1)
			return []string{
				"VMOVUPS%z %o(DI), " + r,
				"VMOVUPS%z %o(SI), " + x,
				"VFMADD231PS Z31, " + x + ", " + r,
				"VMOVUPS " + r + ", %o(DI)",
			}
		},
	},
	{
		// max(0, x) with x as the second source, so a NaN stays NaN.
		name: "vrelu", sig: "(dst, x *float32, n int)",
		y:    map[string]string{"Z31": "Y15"},
		args: []arg{ptr("dst", "DI"), ptr("x", "SI"), count},
		pre:  []string{"VXORPS Z31, Z31, Z31"},
		body: func(v int) []string {
			r := z(4 * v)
			return []string{
				"VMOVUPS%z %o(SI), " + r,
				"VMAXPS " + r + ", Z31, " + r,
				"VMOVUPS " + r + ", %o(DI)",
			}
		},
	},
	{
		// gx += g where y > 0.
		name: "vreluGrad", sig: "(gx, gy, y *float32, n int)",
		y: map[string]string{"Z31": "Y15"},
		// AVX2 has no opmasks: the compare gives a lane mask and a blend
		// keeps gx where y ≤ 0 (not gx + 0, which would turn −0 into +0).
		body256: func(v int) []string {
			r, yy, g := y(4*v), y(4*v+1), y(4*v+2)
			return []string{
				"VMOVUPS%z %o(DX), " + yy,
				"VMOVUPS%z %o(SI), " + g,
				"VMOVUPS%z %o(DI), " + r,
				"VCMPPS $0x1e, Y15, " + yy + ", " + yy, // y > 0 (GT_OQ)
				"VADDPS " + g + ", " + r + ", " + g,
				"VBLENDVPS " + yy + ", " + g + ", " + r + ", " + r,
				"VMOVUPS " + r + ", %o(DI)",
			}
		},
		args: []arg{ptr("gx", "DI"), ptr("gy", "SI"), ptr("y", "DX"), count},
		pre:  []string{"VXORPS Z31, Z31, Z31"},
		body: func(v int) []string {
			r, y, g := z(4*v), z(4*v+1), z(4*v+2)
			k := fmt.Sprintf("K%d", 2+v)
			return []string{
				"VMOVUPS%z %o(DX), " + y,
				"VMOVUPS%z %o(SI), " + g,
				"VMOVUPS%z %o(DI), " + r,
				"VCMPPS $0x1e, Z31, " + y + ", " + k, // y > 0 (GT_OQ)
				"VADDPS " + g + ", " + r + ", " + k + ", " + r,
				"VMOVUPS " + r + ", %o(DI)",
			}
		},
	},
	{
		// gx = g where y > 0, else 0 (no load of gx).
		name: "vreluGradSet", sig: "(gx, gy, y *float32, n int)",
		y: map[string]string{"Z31": "Y15"},
		body256: func(v int) []string {
			r, yy, g := y(4*v), y(4*v+1), y(4*v+2)
			return []string{
				"VMOVUPS%z %o(DX), " + yy,
				"VMOVUPS%z %o(SI), " + g,
				"VCMPPS $0x1e, Y15, " + yy + ", " + yy, // y > 0 (GT_OQ)
				"VADDPS " + g + ", Y15, " + g,          // 0 + g
				"VANDPS " + yy + ", " + g + ", " + r,   // where kept
				"VMOVUPS " + r + ", %o(DI)",
			}
		},
		args: []arg{ptr("gx", "DI"), ptr("gy", "SI"), ptr("y", "DX"), count},
		pre:  []string{"VXORPS Z31, Z31, Z31"},
		body: func(v int) []string {
			r, y, g := z(4*v), z(4*v+1), z(4*v+2)
			k := fmt.Sprintf("K%d", 2+v)
			return []string{
				"VMOVUPS%z %o(DX), " + y,
				"VMOVUPS%z %o(SI), " + g,
				"VCMPPS $0x1e, Z31, " + y + ", " + k,       // y > 0 (GT_OQ)
				"VADDPS.Z " + g + ", Z31, " + k + ", " + r, // 0 + g where kept: as gx += g into zeros
				"VMOVUPS " + r + ", %o(DI)",
			}
		},
	},
	{
		// Σ x² in float64.
		name: "vsumsq", sig: "(x *float32, n int) float64",
		// AVX2: vector v's accumulator is Y(4v+3); each converts its 8
		// floats in two halves of 4 doubles, as AVX-512 does its 16.
		y: map[string]string{"Z16": "Y3", "Z17": "Y7", "Z18": "Y11", "Z19": "Y15"},
		body256: func(v int) []string {
			x, lo, hi, acc := y(4*v), y(4*v+1), y(4*v+2), y(4*v+3)
			xx, xh := fmt.Sprintf("X%d", 4*v), fmt.Sprintf("X%d", 4*v+2)
			return []string{
				"VMOVUPS%z %o(SI), " + x,
				"VEXTRACTF128 $1, " + x + ", " + xh,
				"VCVTPS2PD " + xx + ", " + lo,
				"VCVTPS2PD " + xh + ", " + hi,
				"VFMADD231PD " + lo + ", " + lo + ", " + acc,
				"VFMADD231PD " + hi + ", " + hi + ", " + acc,
			}
		},
		ret256: []string{
			"VADDPD Y7, Y3, Y0",
			"VADDPD Y15, Y11, Y1",
			"VADDPD Y1, Y0, Y0",
			"VEXTRACTF128 $1, Y0, X1",
			"VADDPD X1, X0, X0",
			"VPERMILPD $1, X0, X1",
			"VADDSD X1, X0, X0",
			"VMOVSD X0, %ret",
		},
		args:   []arg{ptr("x", "SI"), count},
		retSig: "float64",
		pre:    []string{"VXORPD Z16, Z16, Z16", "VXORPD Z17, Z17, Z17", "VXORPD Z18, Z18, Z18", "VXORPD Z19, Z19, Z19"},
		body: func(v int) []string {
			x, lo, hi := z(4*v), z(4*v+1), z(4*v+2)
			acc := z(16 + v)
			yx := fmt.Sprintf("Y%d", 4*v)
			yh := fmt.Sprintf("Y%d", 4*v+3)
			return []string{
				"VMOVUPS%z %o(SI), " + x,
				"VEXTRACTF64X4 $1, " + x + ", " + yh,
				"VCVTPS2PD " + yx + ", " + lo,
				"VCVTPS2PD " + yh + ", " + hi,
				"VFMADD231PD " + lo + ", " + lo + ", " + acc,
				"VFMADD231PD " + hi + ", " + hi + ", " + acc,
			}
		},
		ret: append(append([]string{}, hsumPD...), "MOVSD X0, %ret"),
	},
	{
		// Adam / AdamW on one slice; c points at the constants (see
		// AdamUpdate's c in blas1.go): b1, 1−b1, b2, 1−b2, step size,
		// 1/√(1−b2ᵗ), eps, decay, wd.
		name: "vadam", sig: "(p, gr, m, v *float32, n int, c *float32)",
		// AVX2: the nine constants take Y7..Y15, so one vector (Y0..Y4) an
		// iteration; the tail's mask and scratch go in Y5, Y6.
		y: map[string]string{"Z16": "Y4", "Z23": "Y7", "Z24": "Y8", "Z25": "Y9", "Z26": "Y10",
			"Z27": "Y11", "Z28": "Y12", "Z29": "Y13", "Z30": "Y14", "Z31": "Y15"},
		u256: 1, mask256: "Y5", tmp256: "Y6",
		args: []arg{ptr("p", "DI"), ptr("gr", "SI"), ptr("m", "DX"), ptr("v", "R8"), count, {name: "c", ptr: true, fixed: true, reg: "AX"}},
		pre: []string{
			"VBROADCASTSS 0(AX), Z23",  // b1
			"VBROADCASTSS 4(AX), Z24",  // 1−b1
			"VBROADCASTSS 8(AX), Z25",  // b2
			"VBROADCASTSS 12(AX), Z26", // 1−b2
			"VBROADCASTSS 16(AX), Z27", // step size
			"VBROADCASTSS 20(AX), Z28", // 1/√(1−b2ᵗ)
			"VBROADCASTSS 24(AX), Z29", // eps
			"VBROADCASTSS 28(AX), Z30", // decay (AdamW; 1 otherwise)
			"VBROADCASTSS 32(AX), Z31", // wd added to the gradient (Adam; 0 otherwise)
		},
		body: func(v int) []string {
			pp, g, m, vv := z(4*v), z(4*v+1), z(4*v+2), z(4*v+3)
			t := z(16 + v)
			return []string{
				"VMOVUPS%z %o(DI), " + pp,
				"VMOVUPS%z %o(SI), " + g,
				"VMOVUPS%z %o(DX), " + m,
				"VMOVUPS%z %o(R8), " + vv,
				"VFMADD231PS Z31, " + pp + ", " + g, // g += wd·p
				"VMULPS Z30, " + pp + ", " + pp,     // p *= decay
				"VMULPS Z23, " + m + ", " + m,
				"VFMADD231PS Z24, " + g + ", " + m, // m = b1·m + (1−b1)·g
				"VMULPS " + g + ", " + g + ", " + g,
				"VMULPS Z25, " + vv + ", " + vv,
				"VFMADD231PS Z26, " + g + ", " + vv, // v = b2·v + (1−b2)·g²
				"VSQRTPS " + vv + ", " + t,
				"VFMADD213PS Z29, Z28, " + t,  // √v·c + eps
				"VMULPS Z27, " + m + ", " + g, // step·m
				"VDIVPS " + t + ", " + g + ", " + g,
				"VSUBPS " + g + ", " + pp + ", " + pp,
				"VMOVUPS " + pp + ", %o(DI)",
				"VMOVUPS " + m + ", %o(DX)",
				"VMOVUPS " + vv + ", %o(R8)",
			}
		},
	},
}

func main() {
	p("// Code generated by blas1_asmgen.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !purego")
	p("")
	p("#include \"textflag.h\"")
	p("")
	for _, k := range kernels {
		emit(k, avx512)
	}
	p("// tailMask256: eight all-ones lanes then eight zero lanes; the 8 lanes")
	p("// starting at lane 8−r set the first r (the AVX2 tails of this file,")
	p("// layernorm_amd64.s and sumrows_amd64.s).")
	for i := range 16 {
		v := "0xffffffff"
		if i >= 8 {
			v = "0x00000000"
		}
		p("DATA ·tailMask256+%d(SB)/4, $%s", 4*i, v)
	}
	p("GLOBL ·tailMask256(SB), RODATA|NOPTR, $64")
	p("")
	for _, k := range kernels {
		emit(k, avx2)
	}
	if err := os.WriteFile("blas1_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	var g bytes.Buffer
	fmt.Fprintln(&g, "// Code generated by blas1_asmgen.go; DO NOT EDIT.")
	fmt.Fprintln(&g)
	fmt.Fprintln(&g, "//go:build amd64 && !purego")
	fmt.Fprintln(&g)
	fmt.Fprintln(&g, "package tensor")
	for _, s := range []isa{avx512, avx2} {
		for _, k := range kernels {
			fmt.Fprintln(&g)
			fmt.Fprintln(&g, "//go:noescape")
			fmt.Fprintf(&g, "func %s%s%s\n", k.name, s.name, k.sig)
		}
	}
	src, err := format.Source(g.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("blas1_kernels_amd64.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}

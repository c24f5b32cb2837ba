//go:build ignore

// blas1_asmgen writes blas1_amd64.s and blas1_kernels_amd64.go: AVX-512F
// kernels of the memory-bound passes of a training step (adds, gradient
// accumulation, ReLU, sums of squares, the Adam update, LayerNorm rows).
// Run it with `go generate` in tensor/ (see blas1.go) after changing it.
//
// A streaming kernel walks its slices four vectors (64 floats) at a time,
// then one vector at a time, then finishes the last n mod 16 elements with
// masked loads and stores (opmask K1), so every element goes through the
// same instructions whatever the length or alignment. On CPUs without
// AVX-512 the Go loops of blas1.go run instead.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
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
	name string
	doc  string
	args []arg
	pre  []string // before the loop (scalars are broadcast already)
	body func(v int) []string
	// ret, when set, reduces the accumulators after the loop and stores the
	// result (the function returns a value).
	ret    []string
	retSig string
}

var out bytes.Buffer

func p(format string, a ...any) { fmt.Fprintf(&out, format+"\n", a...) }

func z(i int) string { return fmt.Sprintf("Z%d", i) }

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

func emit(k kernel) {
	var ptrs []arg
	p("// func %s", k.doc)
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
	p("TEXT ·%s(SB), NOSPLIT, $0-%d", k.name, frame)
	off := 0
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
			p("\tVBROADCASTSS %s+%d(FP), %s", a.name, off, a.reg)
			off += 4
		}
	}
	for _, l := range k.pre {
		p("\t%s", l)
	}
	adv := func(bytes int) {
		for _, a := range ptrs {
			p("\tADDQ $%d, %s", bytes, a.reg)
		}
	}
	p("%s_loop4:", k.name)
	p("\tCMPQ CX, $64")
	p("\tJL %s_loop1", k.name)
	bodies := make([][]string, 4)
	for v := range bodies {
		bodies[v] = k.body(v)
	}
	// Interleave the four vectors' instructions line by line.
	for i := 0; i < len(bodies[0]); i++ {
		for v := 0; v < 4; v++ {
			p("\t%s", sub(bodies[v][i], v, false))
		}
	}
	adv(256)
	p("\tSUBQ $64, CX")
	p("\tJMP %s_loop4", k.name)
	p("%s_loop1:", k.name)
	p("\tCMPQ CX, $16")
	p("\tJL %s_tail", k.name)
	for _, l := range k.body(0) {
		p("\t%s", sub(l, 0, false))
	}
	adv(64)
	p("\tSUBQ $16, CX")
	p("\tJMP %s_loop1", k.name)
	p("%s_tail:", k.name)
	p("\tTESTQ CX, CX")
	p("\tJZ %s_done", k.name)
	p("\tMOVQ $1, AX")
	p("\tSHLQ CX, AX")
	p("\tDECQ AX")
	p("\tKMOVW AX, K1")
	for _, l := range k.body(0) {
		p("\t%s", sub(l, 0, true))
	}
	p("%s_done:", k.name)
	for _, l := range k.ret {
		p("\t%s", strings.ReplaceAll(l, "%ret", fmt.Sprintf("ret+%d(FP)", retOff)))
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
		name: "vadd512", doc: "vadd512(dst, a, b *float32, n int)",
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
		name: "vacc512", doc: "vacc512(dst, x *float32, n int)",
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
		name: "vaxpy512", doc: "vaxpy512(dst, x *float32, n int, s float32)",
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
		name: "vrelu512", doc: "vrelu512(dst, x *float32, n int)",
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
		name: "vreluGrad512", doc: "vreluGrad512(gx, gy, y *float32, n int)",
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
		name: "vreluGradSet512", doc: "vreluGradSet512(gx, gy, y *float32, n int)",
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
		name: "vsumsq512", doc: "vsumsq512(x *float32, n int) float64",
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
		name: "vadam512", doc: "vadam512(p, gr, m, v *float32, n int, c *float32)",
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
		emit(k)
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
	for _, k := range kernels {
		fmt.Fprintln(&g)
		fmt.Fprintln(&g, "//go:noescape")
		fmt.Fprintf(&g, "func %s\n", k.doc)
	}
	src, err := format.Source(g.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("blas1_kernels_amd64.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}

//go:build ignore

// vmath_asmgen writes the amd64 elementwise math kernels: vmath_amd64.s and
// their Go declarations in vmath_kernels_amd64.go. Run it with `go generate`
// in tensor/ (see vmath_amd64.go) after changing it.
//
// Every kernel exists twice: AVX-512F on 16 lanes (names ending in 512) and
// AVX2+FMA on 8 lanes (ending in 256). A kernel walks its slices U vectors
// at a time (U independent register sets, "lanes", their instructions
// interleaved), then one vector at a time, then finishes the last n mod
// vlen elements with masked loads and stores (opmask K1, or VMASKMOVPS with
// a mask vector), so every element goes through the same instructions
// whatever the slice's length or alignment: results never depend on either.
//
// The functions are the scalar ones of fastmath.go evaluated with FMA:
//
//	exp:     x clamped to [−104, 89] (NaN kept), n = round(x·log2e),
//	         r = x − n·ln2 (Cody–Waite, two FMAs), Cephes' degree-5
//	         polynomial, y·2ⁿ by VSCALEFPS (AVX-512) or by two exponent-field
//	         multiplications 2^⌊n/2⌋·2^(n−⌊n/2⌋) (AVX2), so subnormal results
//	         are rounded once and overflow gives +Inf;
//	tanh:    on a = |x|: Cephes' odd polynomial for a < 0.625, else
//	         1 − 2/(e^{2·min(a, 9.5)} + 1); the sign of x is put back last,
//	         so tanh(−x) = −tanh(x) exactly and tanh(−0) = −0;
//	sigmoid: e = exp(−|x|), (x < 0 ? e : 1)/(1 + e);
//	gelu:    s = sigmoid(2·√(2/π)·(x + 0.044715·x³)) = ½(1 + tanh(…)),
//	         y = x·s (the tanh approximation: ½x(1 + tanh u) = x·σ(2u)).
//
// Constants live in one table of 32-byte rows (each value replicated 8
// times): AVX2 reads a row as a 256-bit operand, AVX-512 broadcasts its
// first element (.BCST). Constants that must be the second source of
// VMINPS/VMAXPS, which is what keeps a NaN input NaN, are broadcast into
// registers before the loop (Z16 up, or Y15 down).
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"math"
	"os"
	"strings"
)

type isa struct {
	name string // suffix in function names
	vlen int    // float32 lanes per vector
	reg  string // "Z" or "Y"
	k512 bool
}

var (
	avx512 = isa{name: "512", vlen: 16, reg: "Z", k512: true}
	avx2   = isa{name: "256", vlen: 8, reg: "Y"}
)

// Constant table: name → value bits.
type konst struct {
	name string
	bits uint32
}

func f32(name string, v float64) konst { return konst{name, math.Float32bits(float32(v))} }

var consts = []konst{
	f32("one", 1),
	f32("two", 2),
	f32("zero", 0),
	f32("negInf", math.Inf(-1)),
	f32("expLo", -104),
	f32("expHi", 89),
	f32("log2e", 1.44269504088896341),
	f32("ln2Hi", 0.693359375),
	f32("ln2Lo", -2.12194440e-4),
	f32("expP0", 1.9875691500e-4),
	f32("expP1", 1.3981999507e-3),
	f32("expP2", 8.3334519073e-3),
	f32("expP3", 4.1665795894e-2),
	f32("expP4", 1.6666665459e-1),
	f32("expP5", 5.0000001201e-1),
	{"bias", 127},
	{"signMask", 0x80000000},
	f32("tanhSmall", 0.625),
	f32("tanhClamp", 9.5),
	f32("tanhP0", -5.70498872745e-3),
	f32("tanhP1", 2.06390887954e-2),
	f32("tanhP2", -5.37397155531e-2),
	f32("tanhP3", 1.33314422036e-1),
	f32("tanhP4", -3.33332819422e-1),
	f32("geluA", 0.044715),
	f32("geluC2", 2*0.7978845608028654),
	f32("geluC6", 6*0.044715*0.7978845608028654),
}

func constOff(name string) int {
	for i, k := range consts {
		if k.name == name {
			return 32 * i
		}
	}
	log.Fatalf("no constant %s", name)
	return 0
}

func mem(name string) string { return fmt.Sprintf("vmathConst<>+%d(SB)", constOff(name)) }

// lane emits the instructions of one register set; the kernel interleaves
// the lanes of an unrolled iteration line by line.
type lane struct {
	s     isa
	idx   int      // vector index within the iteration
	tail  bool     // the masked last vector
	regs  []string // scratch registers
	kreg  string   // this lane's compare mask (AVX-512)
	mask  string   // the tail's lane mask (AVX2)
	hoist map[string]string
	lines []string
}

func (l *lane) p(format string, args ...any) { l.lines = append(l.lines, fmt.Sprintf(format, args...)) }

func (l *lane) r(i int) string { return l.regs[i] }

// c emits op with a table constant as its first (memory) operand.
func (l *lane) c(op, k string, rest ...string) {
	if l.s.k512 {
		op += ".BCST"
	}
	l.p("%s %s, %s", op, mem(k), strings.Join(rest, ", "))
}

// bcast fills reg with a table constant.
func (l *lane) bcast(k, reg string) {
	if l.s.k512 {
		l.p("VBROADCASTSS %s, %s", mem(k), reg)
	} else {
		l.p("VMOVUPS %s, %s", mem(k), reg)
	}
}

// h returns the register holding a hoisted constant.
func (l *lane) h(k string) string {
	r, ok := l.hoist[k]
	if !ok {
		log.Fatalf("constant %s not hoisted", k)
	}
	return r
}

// addr returns the address of this lane's vector at ptr: a register, or
// "BASE+IDX" for BASE plus the byte offset held in IDX, or "BASE+2IDX" for
// twice that (the LSTM kernels reach their four gate blocks this way).
func (l *lane) addr(ptr string) string {
	var off string
	if o := l.idx * l.s.vlen * 4; o != 0 {
		off = fmt.Sprint(o)
	}
	base, idx, ok := strings.Cut(ptr, "+")
	if !ok {
		return fmt.Sprintf("%s(%s)", off, ptr)
	}
	scale := 1
	if strings.HasPrefix(idx, "2") {
		scale, idx = 2, idx[1:]
	}
	return fmt.Sprintf("%s(%s)(%s*%d)", off, base, idx, scale)
}

// load reads a vector (masked lanes read as 0 in the tail).
func (l *lane) load(ptr, dst string) {
	switch {
	case !l.tail:
		l.p("VMOVUPS %s, %s", l.addr(ptr), dst)
	case l.s.k512:
		l.p("VMOVUPS.Z %s, K1, %s", l.addr(ptr), dst)
	default:
		l.p("VMASKMOVPS %s, %s, %s", l.addr(ptr), l.mask, dst)
	}
}

func (l *lane) store(src, ptr string) {
	switch {
	case !l.tail:
		l.p("VMOVUPS %s, %s", src, l.addr(ptr))
	case l.s.k512:
		l.p("VMOVUPS %s, K1, %s", src, l.addr(ptr))
	default:
		l.p("VMASKMOVPS %s, %s, %s", src, l.mask, l.addr(ptr))
	}
}

func (l *lane) logic(op512, op256, a, b, dst string) {
	if l.s.k512 {
		l.p("%s %s, %s, %s", op512, a, b, dst)
	} else {
		l.p("%s %s, %s, %s", op256, a, b, dst)
	}
}

// exp replaces x by eˣ; n, p, t are scratch. Without clamp the caller
// guarantees x ∈ [−104, 89] or NaN.
func (l *lane) exp(x, n, p, t string, clamp bool) {
	if clamp {
		l.p("VMAXPS %s, %s, %s", x, l.h("expLo"), x)
		l.p("VMINPS %s, %s, %s", x, l.h("expHi"), x)
	}
	l.c("VMULPS", "log2e", x, n)
	if l.s.k512 {
		l.p("VRNDSCALEPS $0, %s, %s", n, n)
	} else {
		l.p("VROUNDPS $0, %s, %s", n, n)
	}
	l.c("VFNMADD231PS", "ln2Hi", n, x)
	l.c("VFNMADD231PS", "ln2Lo", n, x)
	l.bcast("expP0", p)
	for _, k := range []string{"expP1", "expP2", "expP3", "expP4", "expP5"} {
		l.c("VFMADD213PS", k, x, p)
	}
	l.p("VMULPS %s, %s, %s", x, x, t)
	l.p("VFMADD213PS %s, %s, %s", x, t, p)
	l.c("VADDPS", "one", p, p)
	if l.s.k512 {
		l.p("VSCALEFPS %s, %s, %s", n, p, x)
		return
	}
	l.p("VCVTPS2DQ %s, %s", n, n)
	l.p("VPSRAD $1, %s, %s", n, t)
	l.p("VPSUBD %s, %s, %s", t, n, n)
	l.c("VPADDD", "bias", t, t)
	l.p("VPSLLD $23, %s, %s", t, t)
	l.c("VPADDD", "bias", n, n)
	l.p("VPSLLD $23, %s, %s", n, n)
	l.p("VMULPS %s, %s, %s", t, p, p)
	l.p("VMULPS %s, %s, %s", n, p, x)
}

// tanh replaces x by tanh(x); the other five registers are scratch.
func (l *lane) tanh(x, s, e, n, p, t string) {
	if l.s.k512 {
		l.c("VPANDD", "signMask", x, s)
	} else {
		l.c("VANDPS", "signMask", x, s)
	}
	l.logic("VPXORD", "VXORPS", s, x, x) // x = |x|
	// Large: 1 − 2/(e^{2a} + 1).
	l.p("VMINPS %s, %s, %s", x, l.h("tanhClamp"), e)
	l.p("VADDPS %s, %s, %s", e, e, e)
	l.exp(e, n, p, t, false)
	l.c("VADDPS", "one", e, e)
	l.bcast("two", n)
	l.p("VDIVPS %s, %s, %s", e, n, e)
	l.bcast("one", n)
	l.p("VSUBPS %s, %s, %s", e, n, e)
	// Small: a + a·z·P(z), z = a².
	l.p("VMULPS %s, %s, %s", x, x, t)
	l.bcast("tanhP0", p)
	for _, k := range []string{"tanhP1", "tanhP2", "tanhP3", "tanhP4"} {
		l.c("VFMADD213PS", k, t, p)
	}
	l.p("VMULPS %s, %s, %s", t, p, p)
	l.p("VFMADD213PS %s, %s, %s", x, x, p)
	if l.s.k512 {
		l.p("VCMPPS.BCST $1, %s, %s, %s", mem("tanhSmall"), x, l.kreg)
		l.p("VMOVAPS %s, %s, %s", p, l.kreg, e)
	} else {
		l.p("VCMPPS $1, %s, %s, %s", mem("tanhSmall"), x, t)
		l.p("VBLENDVPS %s, %s, %s, %s", t, p, e, e)
	}
	l.logic("VPORD", "VORPS", s, e, x)
}

// sigmoid replaces x by 1/(1 + e⁻ˣ); u, n, p, t are scratch.
func (l *lane) sigmoid(x, u, n, p, t string) {
	if l.s.k512 {
		l.c("VPORD", "signMask", x, u)
	} else {
		l.c("VORPS", "signMask", x, u)
	}
	l.p("VMAXPS %s, %s, %s", u, l.h("expLo"), u) // u = −|x| ≥ −104
	l.exp(u, n, p, t, false)
	l.c("VADDPS", "one", u, t)
	if l.s.k512 {
		l.p("VCMPPS.BCST $1, %s, %s, %s", mem("zero"), x, l.kreg)
		l.bcast("one", n)
		l.p("VMOVAPS %s, %s, %s", u, l.kreg, n)
		l.p("VDIVPS %s, %s, %s", t, n, x)
	} else {
		l.p("VCMPPS $5, %s, %s, %s", mem("zero"), x, n) // x ≥ 0 or NaN
		l.p("VBLENDVPS %s, %s, %s, %s", n, mem("one"), u, p)
		l.p("VDIVPS %s, %s, %s", t, p, x)
	}
}

// kernel describes one generated function.
type kernel struct {
	name    string // without the ISA suffix
	args    string // Go parameter list
	results string
	frame   int      // argument frame size
	ptrs    []argReg // pointer arguments → registers
	count   string   // the element count argument
	hoist   []string // constants to hold in registers
	// extra broadcasts scalar arguments into registers: arg name, offset.
	scalars []argReg
	accs    int    // accumulators per lane (zeroed; reduced by epilogue)
	accInit string // constant the accumulators start from ("": zero)
	fold    string // instruction combining two lanes' accumulators
	unroll  func(s isa) int
	nregs   int // scratch registers per lane
	// optional: a pointer argument that may be nil; when it is, body runs
	// with skip = true.
	optional string
	// setup emits instructions run once before the loop (after the
	// pointers and count are loaded).
	setup    func(g *gen)
	body     func(l *lane, accs []string, scalars map[string]string, skip bool)
	epilogue func(g *gen, s isa, accs []string)
}

type argReg struct {
	arg string
	off int
	reg string
}

type gen struct{ bytes.Buffer }

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.Buffer, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(&g.Buffer, "%s:\n", l) }

func vreg(s isa, i int) string { return fmt.Sprintf("%s%d", s.reg, i) }

// view renames a vector register to its ymm or xmm part.
func view(r, kind string) string { return kind + r[1:] }

func (g *gen) emit(s isa, k kernel) {
	name := k.name + s.name
	fmt.Fprintf(&g.Buffer, "\n// func %s(%s)%s\n", name, k.args, k.results)
	fmt.Fprintf(&g.Buffer, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", name, k.frame)
	for _, a := range k.ptrs {
		g.p("MOVQ %s+%d(FP), %s", a.arg, a.off, a.reg)
	}
	g.p("MOVQ %s(FP), CX", k.count)
	if k.setup != nil {
		k.setup(g)
	}
	// Registers from the top: hoisted constants, scalars, accumulators.
	top := 31
	if !s.k512 {
		top = 15
	}
	hoist := map[string]string{}
	for _, c := range k.hoist {
		r := vreg(s, top)
		top--
		hoist[c] = r
		if s.k512 {
			g.p("VBROADCASTSS %s, %s", mem(c), r)
		} else {
			g.p("VMOVUPS %s, %s", mem(c), r)
		}
	}
	scalars := map[string]string{}
	for _, a := range k.scalars {
		r := vreg(s, top)
		top--
		scalars[a.arg] = r
		g.p("VBROADCASTSS %s+%d(FP), %s", a.arg, a.off, r)
	}
	u := k.unroll(s)
	accs := make([][]string, u)
	var allAccs []string
	for i := range u {
		for range k.accs {
			r := vreg(s, top)
			top--
			accs[i] = append(accs[i], r)
			allAccs = append(allAccs, r)
			switch k.accInit {
			case "":
				g.p("VXORPS %s, %s, %s", r, r, r)
			default:
				if s.k512 {
					g.p("VBROADCASTSS %s, %s", mem(k.accInit), r)
				} else {
					g.p("VMOVUPS %s, %s", mem(k.accInit), r)
				}
			}
		}
	}
	// Lanes take registers from V0 up; the AVX2 tail (one lane) keeps its
	// mask in the register after the first lane's.
	mask := vreg(s, k.nregs)
	if u*k.nregs > top+1 || k.nregs > top {
		log.Fatalf("%s: %d lanes of %d registers do not fit", name, u, k.nregs)
	}
	lanes := func(n int, tail bool) []*lane {
		ls := make([]*lane, n)
		for i := range ls {
			l := &lane{s: s, idx: i, tail: tail, hoist: hoist, kreg: fmt.Sprintf("K%d", 2+i), mask: mask}
			for r := range k.nregs {
				l.regs = append(l.regs, vreg(s, i*k.nregs+r))
			}
			ls[i] = l
		}
		return ls
	}
	variants := []bool{false}
	if k.optional != "" {
		variants = []bool{false, true}
	}
	for _, skip := range variants {
		pre := name
		if skip {
			pre += "_skip"
			g.label(pre)
		} else if k.optional != "" {
			var reg string
			for _, a := range k.ptrs {
				if a.arg == k.optional {
					reg = a.reg
				}
			}
			g.p("TESTQ %s, %s", reg, reg)
			g.p("JZ %s_skip", name)
		}
		step := func(n int, tail bool) {
			ls := lanes(n, tail)
			for i, l := range ls {
				var a []string
				if tail {
					a = accs[0]
				} else {
					a = accs[i]
				}
				k.body(l, a, scalars, skip)
			}
			for j := range ls[0].lines {
				for _, l := range ls {
					g.p("%s", l.lines[j])
				}
			}
		}
		advance := func(n int) {
			for _, a := range k.ptrs {
				if skip && a.arg == k.optional {
					continue
				}
				g.p("ADDQ $%d, %s", 4*n, a.reg)
			}
			g.p("SUBQ $%d, CX", n)
		}
		if u > 1 {
			g.label(pre + "_loopU")
			g.p("CMPQ CX, $%d", u*s.vlen)
			g.p("JL %s_loop1", pre)
			step(u, false)
			advance(u * s.vlen)
			g.p("JMP %s_loopU", pre)
		}
		g.label(pre + "_loop1")
		g.p("CMPQ CX, $%d", s.vlen)
		g.p("JL %s_tail", pre)
		step(1, false)
		advance(s.vlen)
		g.p("JMP %s_loop1", pre)
		g.label(pre + "_tail")
		g.p("TESTQ CX, CX")
		g.p("JZ %s_done", pre)
		if s.k512 {
			g.p("MOVQ $1, AX")
			g.p("SHLQ CX, AX")
			g.p("DECQ AX")
			g.p("KMOVW AX, K1")
		} else {
			g.p("LEAQ vmathMaskTab<>(SB), AX")
			g.p("MOVQ $8, BX")
			g.p("SUBQ CX, BX")
			g.p("VMOVDQU (AX)(BX*4), %s", mask)
		}
		step(1, true)
		g.label(pre + "_done")
		if k.epilogue != nil {
			// Fold the lanes' accumulators into the first lane's.
			for i := 1; i < u; i++ {
				for j := range accs[0] {
					g.p("%s %s, %s, %s", k.fold, accs[i][j], accs[0][j], accs[0][j])
				}
			}
			k.epilogue(g, s, accs[0])
		}
		g.p("VZEROUPPER")
		g.p("RET")
	}
}

// hreduce folds the lanes of vector r with op (VADDPS, VADDPD, VMAXPS)
// into element 0 of X0; it clobbers V0 and V1.
func (g *gen) hreduce(s isa, r string, op string) {
	v0 := vreg(s, 0)
	if r != v0 {
		g.p("VMOVAPS %s, %s", r, v0)
	}
	if s.k512 {
		g.p("VEXTRACTF64X4 $1, Z0, Y1")
		g.p("%s Y1, Y0, Y0", op)
	}
	g.p("VEXTRACTF128 $1, Y0, X1")
	g.p("%s X1, X0, X0", op)
	if strings.HasSuffix(op, "PD") {
		g.p("VPERMILPD $1, X0, X1")
		g.p("%s X1, X0, X0", op)
		return
	}
	g.p("VPERMILPS $0x4e, X0, X1")
	g.p("%s X1, X0, X0", op)
	g.p("VPERMILPS $0xb1, X0, X1")
	g.p("%s X1, X0, X0", op)
}

func unrollBy(n512, n256 int) func(isa) int {
	return func(s isa) int {
		if s.k512 {
			return n512
		}
		return n256
	}
}

var elementwise = "dst, x *float32, n int"

var kernels = []kernel{
	{
		name: "vexp", args: elementwise, frame: 24,
		ptrs:  []argReg{{"dst", 0, "DI"}, {"x", 8, "SI"}},
		count: "n+16", hoist: []string{"expLo", "expHi"},
		unroll: unrollBy(2, 2), nregs: 4,
		body: func(l *lane, _ []string, _ map[string]string, _ bool) {
			x, n, p, t := l.r(0), l.r(1), l.r(2), l.r(3)
			l.load("SI", x)
			l.exp(x, n, p, t, true)
			l.store(x, "DI")
		},
	},
	{
		name: "vtanh", args: elementwise, frame: 24,
		ptrs:  []argReg{{"dst", 0, "DI"}, {"x", 8, "SI"}},
		count: "n+16", hoist: []string{"tanhClamp"},
		unroll: unrollBy(2, 1), nregs: 6,
		body: func(l *lane, _ []string, _ map[string]string, _ bool) {
			l.load("SI", l.r(0))
			l.tanh(l.r(0), l.r(1), l.r(2), l.r(3), l.r(4), l.r(5))
			l.store(l.r(0), "DI")
		},
	},
	{
		name: "vsigmoid", args: elementwise, frame: 24,
		ptrs:  []argReg{{"dst", 0, "DI"}, {"x", 8, "SI"}},
		count: "n+16", hoist: []string{"expLo"},
		unroll: unrollBy(2, 2), nregs: 5,
		body: func(l *lane, _ []string, _ map[string]string, _ bool) {
			l.load("SI", l.r(0))
			l.sigmoid(l.r(0), l.r(1), l.r(2), l.r(3), l.r(4))
			l.store(l.r(0), "DI")
		},
	},
	{
		name: "vgelu", args: "y, t, x *float32, n int", frame: 32,
		ptrs:  []argReg{{"y", 0, "DI"}, {"t", 8, "DX"}, {"x", 16, "SI"}},
		count: "n+24", hoist: []string{"expLo"},
		unroll: unrollBy(4, 2), nregs: 6, optional: "t",
		body: func(l *lane, _ []string, _ map[string]string, skip bool) {
			x, u := l.r(0), l.r(1)
			l.load("SI", x)
			l.p("VMULPS %s, %s, %s", x, x, u)
			l.c("VMULPS", "geluA", u, u)
			l.p("VFMADD213PS %s, %s, %s", x, x, u) // x + 0.044715·x³
			l.c("VMULPS", "geluC2", u, u)
			l.sigmoid(u, l.r(2), l.r(3), l.r(4), l.r(5)) // s
			if !skip {
				l.store(u, "DX")
			}
			l.p("VMULPS %s, %s, %s", x, u, u)
			l.store(u, "DI")
		},
	},
	{
		name: "vgeluGrad", args: "gx, gy, x, t *float32, n int", frame: 40,
		ptrs:  []argReg{{"gx", 0, "DI"}, {"gy", 8, "DX"}, {"x", 16, "SI"}, {"t", 24, "R8"}},
		count: "n+32", unroll: unrollBy(2, 2), nregs: 4,
		body: geluGradBody(false),
	},
	{
		name: "vgeluGradSet", args: "gx, gy, x, t *float32, n int", frame: 40,
		ptrs:  []argReg{{"gx", 0, "DI"}, {"gy", 8, "DX"}, {"x", 16, "SI"}, {"t", 24, "R8"}},
		count: "n+32", unroll: unrollBy(2, 2), nregs: 4,
		body: geluGradBody(true),
	},
	{
		name: "vexpShift", args: "dst, x *float32, n int, shift float32", results: " float64", frame: 40,
		ptrs:  []argReg{{"dst", 0, "DI"}, {"x", 8, "SI"}},
		count: "n+16", hoist: []string{"expLo", "expHi"},
		scalars: []argReg{{arg: "shift", off: 24}},
		accs:    2, fold: "VADDPD", unroll: unrollBy(2, 1), nregs: 4,
		body: func(l *lane, accs []string, sc map[string]string, _ bool) {
			x, n, p, t := l.r(0), l.r(1), l.r(2), l.r(3)
			l.load("SI", x)
			l.p("VSUBPS %s, %s, %s", sc["shift"], x, x)
			l.exp(x, n, p, t, true)
			if l.tail {
				if l.s.k512 {
					l.p("VMOVAPS.Z %s, K1, %s", x, x)
				} else {
					l.p("VANDPS %s, %s, %s", l.mask, x, x)
				}
			}
			l.store(x, "DI")
			if l.s.k512 {
				l.p("VCVTPS2PD %s, %s", view(x, "Y"), n)
				l.p("VADDPD %s, %s, %s", n, accs[0], accs[0])
				l.p("VEXTRACTF64X4 $1, %s, %s", x, view(p, "Y"))
				l.p("VCVTPS2PD %s, %s", view(p, "Y"), p)
				l.p("VADDPD %s, %s, %s", p, accs[1], accs[1])
			} else {
				l.p("VCVTPS2PD %s, %s", view(x, "X"), n)
				l.p("VADDPD %s, %s, %s", n, accs[0], accs[0])
				l.p("VEXTRACTF128 $1, %s, %s", x, view(p, "X"))
				l.p("VCVTPS2PD %s, %s", view(p, "X"), p)
				l.p("VADDPD %s, %s, %s", p, accs[1], accs[1])
			}
		},
		epilogue: func(g *gen, s isa, accs []string) {
			g.p("VADDPD %s, %s, %s", accs[1], accs[0], accs[0])
			g.hreduce(s, accs[0], "VADDPD")
			g.p("MOVSD X0, ret+32(FP)")
		},
	},
	{
		name: "vmax", args: "x *float32, n int", results: " float32", frame: 20,
		ptrs:  []argReg{{"x", 0, "SI"}},
		count: "n+8", hoist: []string{"negInf"},
		accs: 1, accInit: "negInf", fold: "VMAXPS", unroll: unrollBy(4, 4), nregs: 1,
		body: func(l *lane, accs []string, _ map[string]string, _ bool) {
			x := l.r(0)
			switch {
			case !l.tail:
				l.load("SI", x)
			case l.s.k512:
				l.p("VMOVAPS %s, %s", l.h("negInf"), x)
				l.p("VMOVUPS %s, K1, %s", l.addr("SI"), x)
			default:
				l.load("SI", x)
				l.p("VBLENDVPS %s, %s, %s, %s", l.mask, x, l.h("negInf"), x)
			}
			// Intel order max(x, acc): a NaN x leaves acc as it was.
			l.p("VMAXPS %s, %s, %s", accs[0], x, accs[0])
		},
		epilogue: func(g *gen, s isa, accs []string) {
			g.hreduce(s, accs[0], "VMAXPS")
			g.p("MOVSS X0, ret+16(FP)")
		},
	},
	{
		name: "vscale", args: "dst *float32, n int, s float32", frame: 20,
		ptrs:  []argReg{{"dst", 0, "DI"}},
		count: "n+8", scalars: []argReg{{arg: "s", off: 16}},
		unroll: unrollBy(4, 4), nregs: 1,
		body: func(l *lane, _ []string, sc map[string]string, _ bool) {
			l.load("DI", l.r(0))
			l.p("VMULPS %s, %s, %s", sc["s"], l.r(0), l.r(0))
			l.store(l.r(0), "DI")
		},
	},
	{
		name: "vaddTanhDot", args: "q, k, v *float32, n int", results: " float32", frame: 36,
		ptrs:  []argReg{{"q", 0, "SI"}, {"k", 8, "DX"}, {"v", 16, "R8"}},
		count: "n+24", hoist: []string{"tanhClamp"},
		accs: 1, fold: "VADDPS", unroll: unrollBy(2, 1), nregs: 6,
		body: func(l *lane, accs []string, _ map[string]string, _ bool) {
			x, y := l.r(0), l.r(1)
			l.load("SI", x)
			l.load("DX", y)
			l.p("VADDPS %s, %s, %s", y, x, x)
			l.tanh(x, l.r(1), l.r(2), l.r(3), l.r(4), l.r(5))
			l.load("R8", y)
			l.p("VFMADD231PS %s, %s, %s", y, x, accs[0])
		},
		epilogue: func(g *gen, s isa, accs []string) {
			g.hreduce(s, accs[0], "VADDPS")
			g.p("MOVSS X0, ret+32(FP)")
		},
	},
	{
		name: "vaddTanhDotGrad", args: "q, k, v *float32, n int, gs float32, dq, dk, dv *float32", frame: 64,
		ptrs: []argReg{{"q", 0, "SI"}, {"k", 8, "DX"}, {"v", 16, "R8"},
			{"dq", 40, "R9"}, {"dk", 48, "R10"}, {"dv", 56, "R11"}},
		count: "n+24", hoist: []string{"tanhClamp"}, scalars: []argReg{{arg: "gs", off: 32}},
		unroll: unrollBy(2, 1), nregs: 6, optional: "dk",
		body: func(l *lane, _ []string, sc map[string]string, skip bool) {
			x, y := l.r(0), l.r(1)
			g := sc["gs"]
			l.load("SI", x)
			l.load("DX", y)
			l.p("VADDPS %s, %s, %s", y, x, x)
			l.tanh(x, l.r(1), l.r(2), l.r(3), l.r(4), l.r(5))
			v, d, e := l.r(1), l.r(2), l.r(3)
			l.load("R8", v)
			l.p("VMULPS %s, %s, %s", g, v, v) // g·v
			l.load("R11", d)
			l.p("VFMADD231PS %s, %s, %s", g, x, d) // dv += g·t
			l.store(d, "R11")
			l.bcast("one", e)
			l.p("VFNMADD231PS %s, %s, %s", x, x, e) // 1 − t²
			l.p("VMULPS %s, %s, %s", e, v, v)
			l.load("R9", d)
			l.p("VADDPS %s, %s, %s", v, d, d)
			l.store(d, "R9")
			if !skip {
				l.load("R10", d)
				l.p("VADDPS %s, %s, %s", v, d, d)
				l.store(d, "R10")
			}
		},
	},
}

func init() {
	kernels = append(kernels, lstmKernels...)
}

// The LSTM cell's elementwise work, one row of n units at a time. A row of
// gates holds the blocks i, f, g, o of n values each; R12 holds n·4 bytes
// and R13 3n·4, so the blocks are at +0, +R12, +2R12 and +R13. The
// arithmetic is the scalar code's, operation for operation, with no fused
// multiply-adds: the results are those of the pure-Go kernels (and of the
// layers' loops before these kernels), bit for bit.
var lstmKernels = []kernel{
	{
		// vlstmCell adds x to a row of gates, activates them in place
		// (σ(i), σ(f), tanh(g), σ(o)) and steps the cell: c = f·c + i·g,
		// th = tanh(c), h = out = o·th.
		name: "vlstmCell", args: "row, x, c, th, h, out *float32, n int", frame: 56,
		ptrs: []argReg{{"row", 0, "SI"}, {"x", 8, "R11"}, {"c", 16, "DX"}, {"th", 24, "R8"},
			{"h", 32, "R9"}, {"out", 40, "R10"}},
		count: "n+48", hoist: []string{"expLo", "tanhClamp"},
		setup: lstmStrides, unroll: unrollBy(2, 1), nregs: 6,
		body: func(l *lane, _ []string, _ map[string]string, _ bool) {
			x, a, b := l.r(0), l.r(1), l.r(2)
			for _, gate := range []string{"", "+R12", "+R13"} {
				l.load("SI"+gate, x)
				l.load("R11"+gate, a)
				l.p("VADDPS %s, %s, %s", a, x, x)
				l.sigmoid(x, l.r(1), l.r(2), l.r(3), l.r(4))
				l.store(x, "SI"+gate)
			}
			l.load("SI+2R12", x)
			l.load("R11+2R12", a)
			l.p("VADDPS %s, %s, %s", a, x, x)
			l.tanh(x, l.r(1), l.r(2), l.r(3), l.r(4), l.r(5))
			l.store(x, "SI+2R12")
			// c = f·c + i·g (x holds g).
			l.load("SI", a)
			l.p("VMULPS %s, %s, %s", x, a, a)
			l.load("SI+R12", b)
			l.load("DX", x)
			l.p("VMULPS %s, %s, %s", x, b, b)
			l.p("VADDPS %s, %s, %s", a, b, x)
			l.store(x, "DX")
			l.tanh(x, l.r(1), l.r(2), l.r(3), l.r(4), l.r(5))
			l.store(x, "R8")
			l.load("SI+R13", a)
			l.p("VMULPS %s, %s, %s", x, a, a)
			l.store(a, "R9")
			l.store(a, "R10")
		},
	},
	{
		// vlstmCellGrad is the cell's backward pass for one row: from the
		// activated gates, th = tanh(c), the previous cell state cp, the
		// output's gradient gout and the state's gradients dh and dc, it
		// writes the gates' pre-activation gradients to drow, sets
		// dc to the previous cell state's gradient and dh to 0.
		name: "vlstmCellGrad", args: "row, drow, th, cp, gout, dh, dc *float32, n int", frame: 64,
		ptrs: []argReg{{"row", 0, "SI"}, {"drow", 8, "DI"}, {"th", 16, "DX"}, {"cp", 24, "R8"},
			{"gout", 32, "R9"}, {"dh", 40, "R10"}, {"dc", 48, "R11"}},
		count: "n+56", hoist: []string{"one"},
		setup: lstmStrides, unroll: unrollBy(2, 1), nregs: 7,
		body: func(l *lane, _ []string, _ map[string]string, _ bool) {
			one := l.h("one")
			dht, dct, th, o, a, b, c := l.r(0), l.r(1), l.r(2), l.r(3), l.r(4), l.r(5), l.r(6)
			mul := func(x, y, dst string) { l.p("VMULPS %s, %s, %s", y, x, dst) } // dst = x·y
			sub := func(x, y, dst string) { l.p("VSUBPS %s, %s, %s", y, x, dst) } // dst = x − y
			add := func(x, y, dst string) { l.p("VADDPS %s, %s, %s", y, x, dst) } // dst = x + y
			l.load("R10", dht)
			l.load("R9", a)
			add(dht, a, dht) // dht = dh + gout
			l.load("DX", th)
			l.load("SI+R13", o)
			// dct = dc + dht·o·(1 − th·th)
			mul(th, th, a)
			sub(one, a, a)
			mul(dht, o, b)
			mul(b, a, b)
			l.load("R11", dct)
			add(dct, b, dct)
			// do = dht·th·o·(1 − o)
			mul(dht, th, a)
			mul(a, o, a)
			sub(one, o, b)
			mul(a, b, a)
			l.store(a, "DI+R13")
			// di = dct·g·i·(1 − i); dg = dct·i·(1 − g·g)
			l.load("SI", a)      // i
			l.load("SI+2R12", b) // g
			mul(dct, b, c)
			mul(c, a, c)
			sub(one, a, th)
			mul(c, th, c)
			l.store(c, "DI")
			mul(dct, a, a)
			mul(b, b, b)
			sub(one, b, b)
			mul(a, b, a)
			l.store(a, "DI+2R12")
			// df = dct·cp·f·(1 − f); dc = dct·f; dh = 0
			l.load("SI+R12", a) // f
			l.load("R8", b)
			mul(dct, b, b)
			mul(b, a, b)
			sub(one, a, c)
			mul(b, c, b)
			l.store(b, "DI+R12")
			mul(dct, a, dct)
			l.store(dct, "R11")
			l.logic("VPXORD", "VXORPS", a, a, a)
			l.store(a, "R10")
		},
	},
}

// lstmStrides loads the LSTM kernels' block offsets: R12 = n·4 bytes,
// R13 = 3n·4.
func lstmStrides(g *gen) {
	g.p("MOVQ CX, R12")
	g.p("SHLQ $2, R12")
	g.p("LEAQ (R12)(R12*2), R13")
}

func main() {
	var s gen
	fmt.Fprintf(&s.Buffer, "// Code generated by vmath_asmgen.go; DO NOT EDIT.\n\n")
	fmt.Fprintf(&s.Buffer, "//go:build amd64 && !purego\n\n#include \"textflag.h\"\n\n")
	fmt.Fprintf(&s.Buffer, "// vmathMaskTab: eight all-ones lanes then eight zero lanes; the 8 lanes\n// starting at lane 8-r set the first r.\n")
	for i := 0; i < 16; i++ {
		v := "0xffffffff"
		if i >= 8 {
			v = "0x00000000"
		}
		fmt.Fprintf(&s.Buffer, "DATA vmathMaskTab<>+%d(SB)/4, $%s\n", 4*i, v)
	}
	fmt.Fprintf(&s.Buffer, "GLOBL vmathMaskTab<>(SB), RODATA|NOPTR, $64\n\n")
	fmt.Fprintf(&s.Buffer, "// vmathConst: one 32-byte row per constant.\n")
	for i, k := range consts {
		fmt.Fprintf(&s.Buffer, "// %s\n", k.name)
		for j := range 8 {
			fmt.Fprintf(&s.Buffer, "DATA vmathConst<>+%d(SB)/4, $0x%08x\n", 32*i+4*j, k.bits)
		}
	}
	fmt.Fprintf(&s.Buffer, "GLOBL vmathConst<>(SB), RODATA|NOPTR, $%d\n", 32*len(consts))

	var d bytes.Buffer
	fmt.Fprintf(&d, "// Code generated by vmath_asmgen.go; DO NOT EDIT.\n\n")
	fmt.Fprintf(&d, "//go:build amd64 && !purego\n\npackage tensor\n\n")
	for _, is := range []isa{avx512, avx2} {
		for _, k := range kernels {
			s.emit(is, k)
			fmt.Fprintf(&d, "//go:noescape\nfunc %s%s(%s)%s\n\n", k.name, is.name, k.args, k.results)
		}
	}
	src, err := format.Source(d.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("vmath_kernels_amd64.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("vmath_amd64.s", s.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// geluGradBody is the lane body of vgeluGrad (gx += gy·GELU'(x)) and, with
// set, of vgeluGradSet (gx = gy·GELU'(x), gx never read); t holds the s
// that vgelu saved, σ(2u) for GELU's inner argument u = √(2/π)·(x +
// 0.044715·x³), and GELU'(x) = s + x·2u'·s(1 − s).
func geluGradBody(set bool) func(l *lane, _ []string, _ map[string]string, _ bool) {
	return func(l *lane, _ []string, _ map[string]string, _ bool) {
		x, s, a, b := l.r(0), l.r(1), l.r(2), l.r(3)
		l.load("SI", x)
		l.load("R8", s)
		l.p("VMULPS %s, %s, %s", x, x, a)
		l.bcast("geluC2", b)
		l.c("VFMADD231PS", "geluC6", a, b) // du = 2c + 6·0.044715·c·x²
		l.p("VMOVAPS %s, %s", s, a)
		l.p("VFNMADD231PS %s, %s, %s", s, s, a) // s(1 − s) = s − s²
		l.p("VMULPS %s, %s, %s", a, b, b)
		l.p("VFMADD213PS %s, %s, %s", s, x, b) // GELU'(x) = s + x·du·s(1 − s)
		l.load("DX", s)
		if set {
			l.p("VMULPS %s, %s, %s", s, b, a) // gx = gy·GELU'(x), no load of gx
		} else {
			l.load("DI", a)
			l.p("VFMADD231PS %s, %s, %s", s, b, a)
		}
		l.store(a, "DI")
	}
}

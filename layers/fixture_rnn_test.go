package layers_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// subArray returns values off … off+n−1 of a, as an array of its own.
func subArray(a *fixture.Array, off, n int) *fixture.Array {
	return &fixture.Array{DType: a.DType, Shape: []int{n}, Data: a.Data[off : off+n]}
}

// TestRecurrentFixtures checks multi-layer and bidirectional GRU and LSTM
// over padded batches (unsorted lengths, a sequence of length 1) against
// nn.GRU and nn.LSTM on pack_padded_sequence: outputs, every layer's and
// direction's final state, and the gradients of x, the initial states and
// every weight. torch's two biases per gate map to attnlab's fused one
// (LSTM: b = b_ih + b_hh; GRU: b = [b_ir+b_hr, b_iz+b_hz, b_in], b_hn
// apart), so db is checked against both of torch's.
func TestRecurrentFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"gru_seq_l2_bi_packed", "gru_seq_l2", "lstm_seq_l2_bi_packed", "lstm_seq_bi"} {
		t.Run(name, func(t *testing.T) {
			c := fixture.MustLoad(t, name)
			in, h := int(c.ConfigFloat("input_size")), int(c.ConfigFloat("hidden_size"))
			nl, bidir := int(c.ConfigFloat("layers")), c.Config["bidirectional"] == true
			lstm := c.Params["0.b_ih"].Shape[0] == 4*h
			var r layers.Recurrent
			if lstm {
				r = layers.NewLSTM(in, h, nl, bidir, 0)
			} else {
				r = layers.NewGRU(in, h, nl, bidir, 0)
			}
			g := 3
			if lstm {
				g = 4
			}
			// Weights: W_ih and W_hh are torch's transposed, the layout of
			// attnlab's fused matrices.
			dirs := r.Dirs()
			prefix := func(k int) string {
				p := fmt.Sprint(k/dirs) + "."
				if k%dirs == 1 {
					p += "reverse."
				}
				return p
			}
			var gates []layers.Gates
			var bhn []*layers.Param
			switch rr := r.(type) {
			case *layers.LSTM:
				for _, cell := range rr.Cells {
					gates = append(gates, cell.Gates)
					bhn = append(bhn, nil)
				}
			case *layers.GRU:
				for _, cell := range rr.Cells {
					gates = append(gates, cell.Gates)
					bhn = append(bhn, cell.BHN)
				}
			}
			if len(gates)*4 != len(c.Params) {
				t.Fatalf("%d cells for %d fixture parameters", len(gates), len(c.Params))
			}
			for k, cg := range gates {
				p := prefix(k)
				copy(cg.WIH.Data, c.Params[p+"W_ih"].Tensor().Data)
				copy(cg.WHH.Data, c.Params[p+"W_hh"].Tensor().Data)
				bih, bhh := c.Params[p+"b_ih"].Data, c.Params[p+"b_hh"].Data
				for j := range g * h {
					if !lstm && j >= 2*h { // b_in stays in b, b_hn apart
						cg.B.Data[j] = float32(bih[j])
						bhn[k].Data[j-2*h] = float32(bhh[j])
						continue
					}
					cg.B.Data[j] = float32(bih[j] + bhh[j])
				}
			}
			x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
			b := x.Dim(0)
			var init []layers.State
			if c.Config["initial_state"] == true {
				h0, c0 := c.Inputs["h0"].Tensor(), (*tensor.Tensor)(nil)
				if lstm {
					c0 = c.Inputs["c0"].Tensor()
				}
				for k := range nl * dirs {
					var s layers.State
					s.H = tensor.FromData(slices.Clone(h0.Data[k*b*h:(k+1)*b*h]), b, h).SetRequiresGrad(true)
					if lstm {
						s.C = tensor.FromData(slices.Clone(c0.Data[k*b*h:(k+1)*b*h]), b, h).SetRequiresGrad(true)
					}
					init = append(init, s)
				}
			}
			out, final := r.Forward(x, c.Inputs["lengths"].Ints(), init)
			fixture.ExpectClose(t, "out", out.Data, c.Output("outputs"))
			outs := []*tensor.Tensor{out}
			ups := [][]float32{c.Loss.R["outputs"].Tensor().Data}
			for _, part := range []string{"h", "c"} {
				if part == "c" && !lstm {
					continue
				}
				want := c.Output(part + "_n")
				R := c.Loss.R[part+"_n"].Data
				for k, s := range final {
					st := s.H
					if part == "c" {
						st = s.C
					}
					fixture.ExpectClose(t, fmt.Sprintf("%s_n[%d]", part, k), st.Data, subArray(want, k*b*h, b*h))
					up := make([]float32, b*h)
					for i := range up {
						up[i] = float32(R[k*b*h+i])
					}
					outs, ups = append(outs, st), append(ups, up)
				}
			}
			tensor.BackwardFrom(outs, ups)
			fixture.ExpectClose(t, "dx", x.Grad, c.Grads["x"])
			for k, s := range init {
				fixture.ExpectClose(t, fmt.Sprintf("dh0[%d]", k), s.H.Grad, subArray(c.Grads["h0"], k*b*h, b*h))
				if lstm {
					fixture.ExpectClose(t, fmt.Sprintf("dc0[%d]", k), s.C.Grad, subArray(c.Grads["c0"], k*b*h, b*h))
				}
			}
			for k, cg := range gates {
				p := prefix(k)
				fixture.ExpectClose(t, "d"+p+"W_ih", cg.WIH.Grad, c.Grads[p+"W_ih"])
				fixture.ExpectClose(t, "d"+p+"W_hh", cg.WHH.Grad, c.Grads[p+"W_hh"])
				n := g * h
				if !lstm {
					n = 2 * h
					fixture.ExpectClose(t, "d"+p+"b_in", cg.B.Grad[2*h:], subArray(c.Grads[p+"b_ih"], 2*h, h))
					fixture.ExpectClose(t, "d"+p+"b_hn", bhn[k].Grad, subArray(c.Grads[p+"b_hh"], 2*h, h))
				}
				fixture.ExpectClose(t, "d"+p+"b(ih)", cg.B.Grad[:n], subArray(c.Grads[p+"b_ih"], 0, n))
				fixture.ExpectClose(t, "d"+p+"b(hh)", cg.B.Grad[:n], subArray(c.Grads[p+"b_hh"], 0, n))
			}
		})
	}
}

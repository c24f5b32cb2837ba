package layers_test

import (
	"testing"

	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// fuse copies the per-gate fixture matrices [rows, H] side by side into dst
// [rows, len(parts)·H].
func fuse(dst []float32, parts ...*fixture.Array) {
	rows, h := parts[0].Shape[0], parts[0].Shape[1]
	w := len(parts) * h
	for k, p := range parts {
		for r := 0; r < rows; r++ {
			for j := 0; j < h; j++ {
				dst[r*w+k*h+j] = float32(p.Data[r*h+j])
			}
		}
	}
}

// unfuse returns block k (of width h) of a fused [rows, n·h] matrix.
func unfuse(src []float32, rows, n, h, k int) []float32 {
	out := make([]float32, 0, rows*h)
	for r := 0; r < rows; r++ {
		out = append(out, src[r*n*h+k*h:r*n*h+(k+1)*h]...)
	}
	return out
}

var lstmGates = []string{"i", "f", "g", "o"}

// setLSTM assembles the fused weights of c from the per-gate fixture params.
func setLSTM(c *layers.LSTMCell, p map[string]*fixture.Array) {
	var wi, wh []*fixture.Array
	for _, g := range lstmGates {
		wi = append(wi, p["W_i"+g])
		wh = append(wh, p["W_h"+g])
	}
	fuse(c.WIH.Data, wi...)
	fuse(c.WHH.Data, wh...)
	h := c.Hidden
	for k, g := range lstmGates {
		for j := 0; j < h; j++ {
			c.B.Data[k*h+j] = float32(p["b_i"+g].Data[j] + p["b_h"+g].Data[j])
		}
	}
}

// checkLSTMGrads compares the fused gradients of c with the per-gate ones.
func checkLSTMGrads(t *testing.T, c *layers.LSTMCell, grads map[string]*fixture.Array) {
	t.Helper()
	h := c.Hidden
	for k, g := range lstmGates {
		fixture.ExpectClose(t, "dW_i"+g, unfuse(c.WIH.Grad, c.In, 4, h, k), grads["W_i"+g])
		fixture.ExpectClose(t, "dW_h"+g, unfuse(c.WHH.Grad, h, 4, h, k), grads["W_h"+g])
		// b = b_iG + b_hG, so both receive db.
		fixture.ExpectClose(t, "db_i"+g, c.B.Grad[k*h:(k+1)*h], grads["b_i"+g])
		fixture.ExpectClose(t, "db_h"+g, c.B.Grad[k*h:(k+1)*h], grads["b_h"+g])
	}
}

func TestLSTMCellFixture(t *testing.T) {
	t.Parallel()
	c := fixture.MustLoad(t, "lstm_cell")
	cell := layers.NewLSTMCell(int(c.ConfigFloat("input_size")), int(c.ConfigFloat("hidden_size")))
	setLSTM(cell, c.Params)
	x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
	h0 := c.Inputs["h0"].Tensor().SetRequiresGrad(true)
	c0 := c.Inputs["c0"].Tensor().SetRequiresGrad(true)
	s := cell.Step(x, layers.State{H: h0, C: c0})
	fixture.ExpectClose(t, "h1", s.H.Data, c.Output("h1"))
	fixture.ExpectClose(t, "c1", s.C.Data, c.Output("c1"))
	tensor.BackwardFrom([]*tensor.Tensor{s.H, s.C}, [][]float32{c.Loss.R["h1"].Tensor().Data, c.Loss.R["c1"].Tensor().Data})
	fixture.ExpectClose(t, "dx", x.Grad, c.Grads["x"])
	fixture.ExpectClose(t, "dh0", h0.Grad, c.Grads["h0"])
	fixture.ExpectClose(t, "dc0", c0.Grad, c.Grads["c0"])
	checkLSTMGrads(t, cell, c.Grads)
}

func TestLSTMSequenceFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"lstm_seq", "lstm_seq_packed"} {
		t.Run(name, func(t *testing.T) {
			c := fixture.MustLoad(t, name)
			lstm := layers.NewLSTM(int(c.ConfigFloat("input_size")), int(c.ConfigFloat("hidden_size")), 1, false, 0)
			setLSTM(lstm.Cells[0], c.Params)
			x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
			h0 := c.Inputs["h0"].Tensor().SetRequiresGrad(true)
			c0 := c.Inputs["c0"].Tensor().SetRequiresGrad(true)
			out, final := lstm.Forward(x, c.Inputs["lengths"].Ints(), []layers.State{{H: h0, C: c0}})
			fixture.ExpectClose(t, "out", out.Data, c.Output("outputs"))
			fixture.ExpectClose(t, "h_T", final[0].H.Data, c.Output("h_T"))
			fixture.ExpectClose(t, "c_T", final[0].C.Data, c.Output("c_T"))
			tensor.BackwardFrom([]*tensor.Tensor{out, final[0].C},
				[][]float32{c.Loss.R["outputs"].Tensor().Data, c.Loss.R["c_T"].Tensor().Data})
			fixture.ExpectClose(t, "dx", x.Grad, c.Grads["x"])
			fixture.ExpectClose(t, "dh0", h0.Grad, c.Grads["h0"])
			fixture.ExpectClose(t, "dc0", c0.Grad, c.Grads["c0"])
			checkLSTMGrads(t, lstm.Cells[0], c.Grads)
		})
	}
}

func TestGRUCellFixture(t *testing.T) {
	t.Parallel()
	c := fixture.MustLoad(t, "gru_cell")
	p := c.Params
	cell := layers.NewGRUCell(int(c.ConfigFloat("input_size")), int(c.ConfigFloat("hidden_size")))
	fuse(cell.WIH.Data, p["W_ir"], p["W_iz"], p["W_in"])
	fuse(cell.WHH.Data, p["W_hr"], p["W_hz"], p["W_hn"])
	h := cell.Hidden
	for j := 0; j < h; j++ {
		cell.B.Data[j] = float32(p["b_ir"].Data[j] + p["b_hr"].Data[j])
		cell.B.Data[h+j] = float32(p["b_iz"].Data[j] + p["b_hz"].Data[j])
		cell.B.Data[2*h+j] = float32(p["b_in"].Data[j])
		cell.BHN.Data[j] = float32(p["b_hn"].Data[j])
	}
	x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
	h0 := c.Inputs["h0"].Tensor().SetRequiresGrad(true)
	s := cell.Step(x, layers.State{H: h0})
	fixture.ExpectClose(t, "h1", s.H.Data, c.Output("h1"))
	tensor.BackwardFrom([]*tensor.Tensor{s.H}, [][]float32{c.Loss.R["h1"].Tensor().Data})
	fixture.ExpectClose(t, "dx", x.Grad, c.Grads["x"])
	fixture.ExpectClose(t, "dh0", h0.Grad, c.Grads["h0"])
	for k, g := range []string{"r", "z", "n"} {
		fixture.ExpectClose(t, "dW_i"+g, unfuse(cell.WIH.Grad, cell.In, 3, h, k), c.Grads["W_i"+g])
		fixture.ExpectClose(t, "dW_h"+g, unfuse(cell.WHH.Grad, h, 3, h, k), c.Grads["W_h"+g])
		fixture.ExpectClose(t, "db_i"+g, cell.B.Grad[k*h:(k+1)*h], c.Grads["b_i"+g])
		if g != "n" {
			fixture.ExpectClose(t, "db_h"+g, cell.B.Grad[k*h:(k+1)*h], c.Grads["b_h"+g])
		}
	}
	fixture.ExpectClose(t, "db_hn", cell.BHN.Grad, c.Grads["b_hn"])
}

func TestLayerNormFixture(t *testing.T) {
	t.Parallel()
	c := fixture.MustLoad(t, "layernorm")
	x := c.Inputs["x"].Tensor().SetRequiresGrad(true)
	ln := layers.NewLayerNorm(x.Dim(-1), float32(c.ConfigFloat("eps")))
	copy(ln.Gamma.Data, c.Params["gamma"].Tensor().Data)
	copy(ln.Beta.Data, c.Params["beta"].Tensor().Data)
	y := ln.Forward(x)
	fixture.ExpectClose(t, "y", y.Data, c.Output("y"))
	tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{c.Loss.R["y"].Tensor().Data})
	fixture.ExpectClose(t, "dx", x.Grad, c.Grads["x"])
	fixture.ExpectClose(t, "dgamma", ln.Gamma.Grad, c.Grads["gamma"])
	fixture.ExpectClose(t, "dbeta", ln.Beta.Grad, c.Grads["beta"])
}

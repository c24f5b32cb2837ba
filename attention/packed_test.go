package attention_test

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// TestAttendPacked: self-attention over a packed qkv equals Attend over
// its three parts (values and the gradient of qkv, within float32
// rounding), for linear attention, which reads qkv in place, and for a
// variant that gets it split; and the in-place path passes the gradient
// check, causal and not, with key padding and several heads.
func TestAttendPacked(t *testing.T) {
	const b, n, heads = 2, 6, 2
	for _, tc := range []struct {
		variant string
		params  map[string]any
		causal  bool
		rope    bool
		hd      int
	}{
		{"linear", nil, false, false, 3},
		{"linear", nil, false, false, 16}, // the AVX-512 kernels' sizes
		{"linear", nil, true, false, 3},
		{"linear", nil, true, false, 16},
		{"linear", nil, false, true, 3},
		{"scaled-dot", nil, false, false, 3},
	} {
		name := fmt.Sprintf("%s/d=%d", tc.variant, tc.hd)
		if tc.causal {
			name += "/causal"
		}
		if tc.rope {
			name += "/rope"
		}
		t.Run(name, func(t *testing.T) {
			d := attention.Dims{Query: tc.hd, Key: tc.hd, Value: tc.hd, Heads: heads, Causal: tc.causal}
			if tc.rope {
				d.Positions, _ = attention.NewPositions(attention.PositionsRoPE, tc.causal)
				d.Query, d.Key = 4, 4
			}
			a, err := attention.New(tc.variant, tc.params, d)
			if err != nil {
				t.Fatal(err)
			}
			wq, wk, wv := heads*d.Query, heads*d.Key, heads*d.Value
			qkv := randn(tensor.NewRNG(41), true, b, n, wq+wk+wv)
			mask := attention.KeyPaddingMask([]int{n, 4}, n)
			compareGrads(t, 1e-5, map[string]*tensor.Tensor{"qkv": qkv}, func() []*tensor.Tensor {
				ctx, _ := attention.AttendPacked(a, qkv, wq, wk, wv, mask)
				return []*tensor.Tensor{ctx}
			}, func() []*tensor.Tensor {
				p := tensor.Split(qkv, 2, wq, wk, wv)
				ctx, _ := a.Attend(p[0], p[1], p[2], mask)
				return []*tensor.Tensor{ctx}
			})
			f := func() []*tensor.Tensor {
				ctx, _ := attention.AttendPacked(a, qkv, wq, wk, wv, mask)
				return []*tensor.Tensor{ctx}
			}
			if err := tensor.GradCheck(f, map[string]*tensor.Tensor{"qkv": qkv}, tensor.GradCheckOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAttendPackedRejectsBadSizes: widths that do not fit the site get
// Attend's message, not a wrong answer.
func TestAttendPackedRejectsBadSizes(t *testing.T) {
	a, err := attention.New("linear", nil, attention.Dims{Query: 3, Key: 3, Value: 3, Heads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("AttendPacked accepted widths 4+4+4 for 2 heads of 3")
		}
	}()
	attention.AttendPacked(a, tensor.New(1, 5, 12), 4, 4, 4, nil)
}

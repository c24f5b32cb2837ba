package runs

import (
	"math"
	"testing"
)

func TestWorkloadsBuildAndLearn(t *testing.T) {
	want := map[string]int{"W1": 310691 - 512 - 512, "W2": 212131 - 512 - 512, "W3": 939683, "W4": 809856}
	for _, w := range Workloads {
		res, err := RunWorkload(w.Name, BenchOptions{Steps: 2, Warmup: 1})
		if err != nil {
			t.Fatal(err)
		}
		// PyTorch's LSTMs keep two bias vectors per layer (b_ih, b_hh); ours
		// keep their sum, 4×128 fewer parameters per LSTM.
		if res.Params != want[w.Name] {
			t.Errorf("%s has %d parameters, want %d", w.Name, res.Params, want[w.Name])
		}
		if math.IsNaN(res.MeanLossAfter) || res.Tokens == 0 {
			t.Errorf("%s: loss %v over %d tokens", w.Name, res.MeanLossAfter, res.Tokens)
		}
	}
}

func TestW5VariantsAgree(t *testing.T) {
	soft, err := BenchAttention("softmax", 96, 1)
	if err != nil {
		t.Fatal(err)
	}
	chunk, err := BenchAttention("chunked", 96, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range soft.Context {
		if math.Abs(float64(soft.Context[i]-chunk.Context[i])) > 1e-5 {
			t.Fatalf("chunked differs from softmax: %v vs %v", chunk.Context, soft.Context)
		}
	}
	if _, err := BenchAttention("linear", 96, 1); err != nil {
		t.Fatal(err)
	}
}

func TestGrowthExponent(t *testing.T) {
	if e := GrowthExponent([]int{1, 2, 4, 8}, []float64{3, 12, 48, 192}); math.Abs(e-2) > 1e-9 {
		t.Fatalf("exponent = %v, want 2", e)
	}
}

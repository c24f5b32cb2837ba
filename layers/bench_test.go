package layers_test

import (
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// benchRecurrent times one forward and backward pass of a recurrent layer
// over a padded batch whose lengths spread over [T/2, T].
func benchRecurrent(b *testing.B, r layers.Recurrent, batch, steps, in int) {
	rng := tensor.NewRNG(1)
	r.Init(rng)
	x := rng.Uniform(tensor.New(batch, steps, in), -1, 1).SetRequiresGrad(true)
	lengths := make([]int, batch)
	for i := range lengths {
		lengths[i] = steps/2 + rng.IntN(steps-steps/2+1)
	}
	lengths[0] = steps
	ps := r.Params()
	b.ReportAllocs()
	for b.Loop() {
		out, _ := r.Forward(x, lengths, nil)
		tensor.SumAll(out).Backward()
		layers.ZeroGrad(ps)
	}
	tokens := 0
	for _, n := range lengths {
		tokens += n
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkLSTMSeq64x30 is the reference size: B=64, T=30, In=64, H=128.
func BenchmarkLSTMSeq64x30(b *testing.B) {
	benchRecurrent(b, layers.NewLSTM(64, 128, 1, false, 0), 64, 30, 64)
}

// BenchmarkLSTMSeqFull64x30 is the same with every sequence of full length.
func BenchmarkLSTMSeqFull64x30(b *testing.B) {
	l := layers.NewLSTM(64, 128, 1, false, 0)
	rng := tensor.NewRNG(1)
	l.Init(rng)
	x := rng.Uniform(tensor.New(64, 30, 64), -1, 1).SetRequiresGrad(true)
	ps := l.Params()
	b.ReportAllocs()
	for b.Loop() {
		out, _ := l.Forward(x, nil, nil)
		tensor.SumAll(out).Backward()
		layers.ZeroGrad(ps)
	}
}

func BenchmarkGRUSeq64x30(b *testing.B) {
	benchRecurrent(b, layers.NewGRU(64, 128, 1, false, 0), 64, 30, 64)
}

func BenchmarkBiLSTM2Layer64x30(b *testing.B) {
	benchRecurrent(b, layers.NewLSTM(64, 128, 2, true, 0), 64, 30, 64)
}

// benchEncoderBlock times one forward and backward pass of a Transformer
// encoder block with 4-head attention (the test's multi-head stand-in for
// attention.MultiHead) at B=32, T=32, d=128, FF 512, dropout 0.1, with a
// key-padding mask.
func benchEncoderBlock(b *testing.B, preLN bool) {
	const batch, steps, d = 32, 32, 128
	rng := tensor.NewRNG(1)
	blk := layers.NewEncoderBlock(layers.BlockConfig{Dim: d, Dropout: 0.1, PreLN: preLN}, newMultiHead(d, 4))
	blk.Init(rng)
	x := rng.Uniform(tensor.New(batch, steps, d), -1, 1).SetRequiresGrad(true)
	lengths := make([]int, batch)
	for i := range lengths {
		lengths[i] = steps/2 + rng.IntN(steps-steps/2+1)
	}
	mask := keyPadding(lengths, steps)
	ps := blk.Params()
	b.ReportAllocs()
	for b.Loop() {
		y, _ := blk.Forward(x, mask)
		tensor.SumAll(y).Backward()
		layers.ZeroGrad(ps)
	}
	b.ReportMetric(float64(batch*steps)*float64(b.N)/b.Elapsed().Seconds(), "positions/s")
}

func BenchmarkEncoderBlockPostLN32x32(b *testing.B) { benchEncoderBlock(b, false) }
func BenchmarkEncoderBlockPreLN32x32(b *testing.B)  { benchEncoderBlock(b, true) }

// BenchmarkLSTMSeqSmall16x20 is a small model (B=16, T=20, In=32, H=64),
// where per-op overhead weighs more than the matrix products.
func BenchmarkLSTMSeqSmall16x20(b *testing.B) {
	benchRecurrent(b, layers.NewLSTM(32, 64, 1, false, 0), 16, 20, 32)
}

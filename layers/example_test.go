package layers_test

import (
	"bytes"
	"fmt"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// An encoder over a padded batch of token ids: embedding, then a
// bidirectional two-layer LSTM that stops at each sequence's length.
func ExampleLSTM() {
	emb := layers.NewEmbedding(10, 8)
	lstm := layers.NewLSTM(8, 16, 2, true, 0.1)
	rng := tensor.NewRNG(1)
	emb.Init(rng)
	lstm.Init(rng)
	params := layers.Collect(layers.Named{Prefix: "embed", Module: emb}, layers.Named{Prefix: "encoder.lstm", Module: lstm})

	ids := []int{ // two sequences, the second padded with id 0
		3, 4, 5, 6,
		7, 8, 0, 0,
	}
	out, final := lstm.Forward(emb.Forward(ids, 2, 4), []int{4, 2}, nil)
	fmt.Println("outputs", out.Shape(), "states", len(final), "h", final[0].H.Shape())
	fmt.Println("padded output is zero:", out.At(1, 3, 0) == 0)
	fmt.Println(params[1].Name, params[1].Shape())
	// Output:
	// outputs [2 4 32] states 4 h [2 16]
	// padded output is zero: true
	// encoder.lstm.0.W_ih [8 64]
}

// Saving parameters with metadata and loading them into a fresh model.
func ExampleSaveSafetensors() {
	build := func(seed uint64) []*layers.Param {
		l := layers.NewLinear(3, 2, true)
		l.Init(tensor.NewRNG(seed))
		return layers.Prefix("decoder", l.Params())
	}
	var buf bytes.Buffer
	if err := layers.SaveSafetensors(&buf, build(1), map[string]string{"step": "100"}); err != nil {
		fmt.Println(err)
		return
	}
	fresh := build(2)
	meta, err := layers.LoadSafetensors(&buf, fresh)
	fmt.Println(meta["step"], err)

	wrong := []*layers.Param{layers.NewParam("decoder.W", 3, 4), layers.NewParam("decoder.b", 2)}
	buf.Reset()
	layers.SaveSafetensors(&buf, build(1), nil)
	_, err = layers.LoadSafetensors(&buf, wrong)
	fmt.Println(err)
	// Output:
	// 100 <nil>
	// checkpoint: tensor "decoder.W" has shape [3 2], model wants [3 4]
}

package models

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
)

// TestNoneFinalHandComputed: seq2seq-rnn with attention none and context
// final (a bidirectional LSTM encoder, an LSTM decoder, Bahdanau wiring)
// gives the logits of a forward pass computed here by hand in float64 from
// the parameters: the encoder's final state of each direction
// c = [→h_n; ←h_n] is fed into the decoder input and the output layer at
// every step.
func TestNoneFinalHandComputed(t *testing.T) {
	t.Parallel()
	const hid = 3
	m := buildTiny(t, "seq2seq-rnn", map[string]any{"embed": 2, "bridge": false}, Spec{SrcVocab: 7, TgtVocab: 7,
		Encoder:   registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": hid, "bidirectional": true}},
		Attention: registry.Plugin{Name: "none", Params: map[string]any{"context": "final"}}}).(*Seq2SeqRNN)
	b := tinyBatch()
	layers.SetTraining(false, m)
	got := m.Forward(b, ForwardOptions{}).Logits
	p := map[string][]float64{}
	for _, x := range m.Params() {
		v := make([]float64, x.Len())
		for i, f := range x.Data {
			v[i] = float64(f)
		}
		p[x.Name] = v
	}
	emb := func(table string, id, e int) []float64 { return p[table][id*e : (id+1)*e] }
	// lstmStep runs one LSTM step: gates x W_ih + h W_hh + b in the order
	// i, f, g, o.
	lstmStep := func(pre string, x, h, c []float64) ([]float64, []float64) {
		n := len(h)
		wih, whh, bias := p[pre+".W_ih"], p[pre+".W_hh"], p[pre+".b"]
		g := make([]float64, 4*n)
		for o := range g {
			s := bias[o]
			for i, xv := range x {
				s += xv * wih[i*4*n+o]
			}
			for i, hv := range h {
				s += hv * whh[i*4*n+o]
			}
			g[o] = s
		}
		sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
		h2, c2 := make([]float64, n), make([]float64, n)
		for u := 0; u < n; u++ {
			c2[u] = sig(g[n+u])*c[u] + sig(g[u])*math.Tanh(g[2*n+u])
			h2[u] = sig(g[3*n+u]) * math.Tanh(c2[u])
		}
		return h2, c2
	}
	v := 7
	for ex := 0; ex < b.Size; ex++ {
		n := b.SrcLen[ex]
		src := b.Src[ex*b.S : ex*b.S+n]
		hf, cf := make([]float64, hid), make([]float64, hid)
		for _, tok := range src {
			hf, cf = lstmStep("encoder.lstm.0", emb("src_emb.W", tok, 2), hf, cf)
		}
		hb, cb := make([]float64, hid), make([]float64, hid)
		for i := n - 1; i >= 0; i-- {
			hb, cb = lstmStep("encoder.lstm.0.reverse", emb("src_emb.W", src[i], 2), hb, cb)
		}
		ctx := append(append([]float64(nil), hf...), hb...)
		// The decoder starts from zeros (bridge off): its state comes only
		// from the context fed at every step.
		h, c := make([]float64, 2*hid), make([]float64, 2*hid)
		for step := 0; step < b.TgtLen[ex]; step++ {
			x := append(append([]float64(nil), emb("tgt_emb.W", b.In[ex*b.T+step], 2)...), ctx...)
			h, c = lstmStep("decoder.0", x, h, c)
			feat := append(append([]float64(nil), h...), ctx...)
			for o := 0; o < v; o++ {
				s := p["out.b"][o]
				for i, f := range feat {
					s += f * p["out.W"][i*v+o]
				}
				if g := float64(got.Data[(ex*b.T+step)*v+o]); math.Abs(g-s) > 1e-5 {
					t.Fatalf("example %d step %d logit %d = %v, hand-computed %v", ex, step, o, g, s)
				}
			}
		}
	}
}

package bench

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWorkloadsBuildAndLearn(t *testing.T) {
	// PyTorch's LSTMs keep two bias vectors per layer (b_ih, b_hh); ours
	// keep their sum, 4×128 fewer parameters per LSTM.
	want := map[string]int{"W1": 310691 - 512 - 512, "W2": 212131 - 512 - 512, "W3": 939683, "W4": 809856}
	for _, w := range Workloads {
		t.Run(w.Name, func(t *testing.T) {
			res, err := Train(w.Name, Options{Steps: 2, Warmup: 1})
			if err != nil {
				t.Fatal(err)
			}
			if res.Params != want[w.Name] {
				t.Errorf("%s has %d parameters, want %d", w.Name, res.Params, want[w.Name])
			}
			if math.IsNaN(res.LossLast) || res.Tokens == 0 || res.TokensPerSec <= 0 {
				t.Errorf("%s: loss %v over %d tokens, %v tokens/s", w.Name, res.LossLast, res.Tokens, res.TokensPerSec)
			}
		})
	}
}

func TestTrainLearns(t *testing.T) {
	// The measured step is a real training step: 30 steps of W4 lower the
	// loss of the character LM well below its starting value (ln 65).
	res, err := Train("W4", Options{Steps: 25, Warmup: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loss %v → %v", res.LossFirst, res.LossLast)
	if !(res.LossLast < 0.9*res.LossFirst) {
		t.Fatalf("loss %v → %v: not learning", res.LossFirst, res.LossLast)
	}
}

func TestUnknownWorkload(t *testing.T) {
	if _, err := Train("W9", Options{}); err == nil {
		t.Fatal("Train(W9) succeeded")
	}
	if _, err := Attention("quadratic", 16, 1, 1); err == nil {
		t.Fatal("Attention(quadratic) succeeded")
	}
}

func TestW5VariantsAgree(t *testing.T) {
	soft, err := Attention("softmax", 96, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	chunk, err := Attention("chunked", 96, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range soft.Context {
		if math.Abs(float64(soft.Context[i]-chunk.Context[i])) > 1e-5 {
			t.Fatalf("chunked differs from softmax: %v vs %v", chunk.Context, soft.Context)
		}
	}
	if _, err := Attention("linear", 96, 1, 1); err != nil {
		t.Fatal(err)
	}
}

// TestW5Repeats: with repeats 0, W5 makes as many timed repeats as
// torch_ref.py's run_w5 would after the same first forward+backward.
func TestW5Repeats(t *testing.T) {
	for _, tc := range []struct {
		first float64
		want  int
	}{{0, 50}, {0.01, 50}, {0.1, 15}, {0.4, 3}, {2, 3}} {
		if got := TorchRepeats(tc.first); got != tc.want {
			t.Errorf("TorchRepeats(%v) = %d, want %d", tc.first, got, tc.want)
		}
	}
	pt, err := Attention("linear", 32, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := TorchRepeats(pt.FirstMs / 1000); pt.Reps != want || pt.FirstMs <= 0 {
		t.Fatalf("first %.3f ms: %d repeats, want %d", pt.FirstMs, pt.Reps, want)
	}
	if pt, err := Attention("linear", 32, 4, 1); err != nil || pt.Reps != 4 {
		t.Fatalf("--repeats 4 gave %v repeats (%v)", pt.Reps, err)
	}
}

func TestGrowthExponent(t *testing.T) {
	if e := GrowthExponent([]int{1, 2, 4, 8}, []float64{3, 12, 48, 192}); math.Abs(e-2) > 1e-9 {
		t.Fatalf("exponent = %v, want 2", e)
	}
}

func TestReadReference(t *testing.T) {
	ref, err := ReadReference("testdata/torch.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		threads int
		want    float64
	}{
		{"W4", 1, 21479},
		{"W4", 2, 23000}, // the faster of "2" and "2 passive"
		{"W1-loop", 1, 12200},
	} {
		if got, ok := ref.Train(tc.name, tc.threads); !ok || got != tc.want {
			t.Errorf("Train(%s, %d) = %v, %v; want %v", tc.name, tc.threads, got, ok, tc.want)
		}
	}
	if _, ok := ref.Train("W3", 1); ok {
		t.Error("Train(W3) found a row the file does not have")
	}
	if r, ok := ref.Attention("linear", 4096, 1); !ok || r.Ms != 38.4 || r.PeakMiB != 50 {
		t.Errorf("Attention(linear, 4096) = %+v, %v", r, ok)
	}
	if got, ok := ref.Decode("beam5", 1); !ok || got != 57 {
		t.Errorf("Decode(beam5) = %v, %v; want 57", got, ok)
	}
	for _, bad := range []string{`{"kind": "train"}`, `[{"workload": "W4"}]`, `not json`} {
		p := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadReference(p); err == nil {
			t.Errorf("ReadReference(%s) succeeded", bad)
		}
	}
	if _, err := ReadReference(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("ReadReference(missing) succeeded")
	}
	if _, err := ReadReference(); err == nil {
		t.Error("ReadReference() with no file succeeded")
	}
}

// With several files (PyTorch measured with different allocators in one
// sitting), every comparison is against PyTorch's best row: the faster
// tokens/s and decoding rate, the smaller time.
func TestReadReferenceTakesPyTorchsBest(t *testing.T) {
	tuned := filepath.Join(t.TempDir(), "tuned.json")
	rows := `[
 {"kind": "train", "workload": "W4", "dtype": "float32", "threads": 1, "tok_per_s": 25000, "omp_wait": "default"},
 {"kind": "train", "workload": "W1-loop", "dtype": "float32", "threads": 1, "tok_per_s": 9000, "omp_wait": "default"},
 {"kind": "w5", "variant": "linear", "n": 4096, "dtype": "float32", "threads": 1, "ms": 30, "peak_mib": 40, "omp_wait": "default"},
 {"kind": "w6", "variant": "beam5", "dtype": "float32", "threads": 1, "per_s": 50, "omp_wait": "default"}
]`
	if err := os.WriteFile(tuned, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]string{{"testdata/torch.json", tuned}, {tuned, "testdata/torch.json"}} {
		ref, err := ReadReference(order...)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := ref.Train("W4", 1); got != 25000 {
			t.Errorf("%v: Train(W4) = %v, want the tuned file's 25000", order, got)
		}
		if got, _ := ref.Train("W1-loop", 1); got != 12200 {
			t.Errorf("%v: Train(W1-loop) = %v, want the first file's 12200", order, got)
		}
		if r, _ := ref.Attention("linear", 4096, 1); r.Ms != 30 {
			t.Errorf("%v: Attention(linear, 4096) = %v ms, want 30", order, r.Ms)
		}
		if got, _ := ref.Decode("beam5", 1); got != 57 {
			t.Errorf("%v: Decode(beam5) = %v, want 57", order, got)
		}
	}
}

func benchTrain(b *testing.B, name string) {
	var tokens int
	var secs, allocs float64
	for b.Loop() {
		res, err := Train(name, Options{Steps: 5, Warmup: 1})
		if err != nil {
			b.Fatal(err)
		}
		tokens += res.Tokens
		secs += res.Seconds
		allocs = res.AllocsPerStep
	}
	b.ReportMetric(float64(tokens)/secs, "tokens/s")
	b.ReportMetric(allocs, "allocs/step")
}

// The reference workloads of BENCHMARKS.md (compare commits with benchstat).
func BenchmarkW1(b *testing.B) { benchTrain(b, "W1") }
func BenchmarkW2(b *testing.B) { benchTrain(b, "W2") }
func BenchmarkW3(b *testing.B) { benchTrain(b, "W3") }
func BenchmarkW4(b *testing.B) { benchTrain(b, "W4") }

var stepThreads = flag.Int("threads", 1, "intra-op threads of BenchmarkStep")

// BenchmarkStep times one training step of each workload (steady state:
// the model is built once), for profiles and benchstat:
//
//	go test ./bench -run XX -bench Step/W4 -count 10 -cpuprofile w4.prof
//
// -threads sets tensor's thread count (train.threads) for it.
func BenchmarkStep(b *testing.B) {
	defer withThreads(*stepThreads)()
	for _, w := range Workloads {
		b.Run(w.Name, func(b *testing.B) {
			wl, err := Lookup(w.Name)
			if err != nil {
				b.Fatal(err)
			}
			s, batches, err := prepare(wl, 8)
			if err != nil {
				b.Fatal(err)
			}
			tokens := 0
			cpu0 := cpuSeconds()
			for i := 0; b.Loop(); i++ {
				bt := batches[i%len(batches)]
				if _, err := s.Step(bt, i+1); err != nil {
					b.Fatal(err)
				}
				for _, n := range bt.TgtLen {
					tokens += n
				}
			}
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
			// The process's CPU time (all threads, the garbage collector's
			// too): steadier than wall time on a machine shared with other
			// jobs.
			b.ReportMetric(1000*(cpuSeconds()-cpu0)/float64(b.N), "cpu-ms/step")
		})
	}
}

func BenchmarkW5(b *testing.B) {
	for _, v := range AttentionVariants {
		for _, n := range []int{256, 1024} {
			b.Run(fmt.Sprintf("%s/%d", v, n), func(b *testing.B) {
				var ms, mib float64
				for b.Loop() {
					pt, err := Attention(v, n, 1, 1)
					if err != nil {
						b.Fatal(err)
					}
					ms, mib = pt.Ms, pt.PeakMiB
				}
				b.ReportMetric(ms, "ms/fwd+bwd")
				b.ReportMetric(mib, "MiB")
			})
		}
	}
}

func TestDecodeVariants(t *testing.T) {
	tokens := map[string][]int{}
	for _, v := range DecodeVariants {
		t.Run(v, func(t *testing.T) {
			res, err := Decode(v, DecodeOptions{Sentences: 70, Steps: 4, Prompt: 5, New: 6})
			if err != nil {
				t.Fatal(err)
			}
			want := 4
			if strings.HasPrefix(v, "lm-") {
				want = 6
			}
			if len(res.Tokens) != want || !(res.PerSec > 0) {
				t.Fatalf("%s: first output %v, %v %s", v, res.Tokens, res.PerSec, res.Unit)
			}
			tokens[v] = res.Tokens
		})
	}
	// The same GPT generates the same text with and without its caches.
	if fmt.Sprint(tokens["lm-cache"]) != fmt.Sprint(tokens["lm-nocache"]) {
		t.Fatalf("lm-cache generated %v, lm-nocache %v", tokens["lm-cache"], tokens["lm-nocache"])
	}
	if _, err := Decode("lm-cached", DecodeOptions{}); err == nil {
		t.Fatal("unknown variant accepted")
	}
}

// BenchmarkDecode times W6's variants on a tenth of their work.
func BenchmarkDecode(b *testing.B) {
	for _, v := range DecodeVariants {
		b.Run(v, func(b *testing.B) {
			var rate float64
			var unit string
			for b.Loop() {
				res, err := Decode(v, DecodeOptions{Sentences: 128, New: 64})
				if err != nil {
					b.Fatal(err)
				}
				rate, unit = res.PerSec, res.Unit
			}
			b.ReportMetric(rate, unit)
		})
	}
}

package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/tensor"
)

// PyTorch's figures on this machine class (../shared/BENCHMARKS.md), one
// thread, float32: tokens/s for W1–W4, ms per forward+backward for W5.
var pytorchTokens = map[string]float64{"W1": 8973, "W2": 20139, "W3": 6354, "W4": 11992}

var pytorchW5 = map[string]map[int]float64{
	"softmax": {256: 6.8, 512: 20.2, 1024: 74.1, 2048: 466, 4096: 2001},
	"linear":  {256: 3.4, 512: 6.3, 1024: 15.0, 2048: 27.3, 4096: 76.3},
}

func newBenchCmd() *cobra.Command {
	var (
		threads, steps, repeats int
		lengths                 []int
	)
	cmd := &cobra.Command{
		Use:   "bench [W1 W2 W3 W4 W5]",
		Short: "Measure the reference workloads (tokens/s, attention time and memory against length)",
		Long: `bench trains the reference workloads through attnlab's
registry and training step and prints their throughput next to PyTorch's
figures on this machine class (one thread, float32):

  W1  LSTM encoder-decoder, additive attention (Bahdanau), reverse 10–30
  W2  LSTM encoder-decoder, scaled dot-product attention (Luong order)
  W3  Transformer encoder-decoder, d 128, 4 heads, 2+2 layers
  W4  character GPT (baby GPT), d 128, 4 heads, 4 layers, context 64
  W5  one multi-head self-attention layer against sequence length:
      softmax (scaled dot-product), chunked (exact, key blocks) and linear

Throughput counts non-pad target tokens of the timed steps over their wall
time, after warm-up steps. W5 reports ms per forward+backward (best of the
repeats), the memory one forward+backward allocates, and the growth
exponent of each fitted over the lengths.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, names []string) error {
			if len(names) == 0 {
				names = runs.WorkloadNames()
			}
			for _, n := range names {
				if !slices.Contains(runs.WorkloadNames(), strings.ToUpper(n)) {
					return usagef("unknown workload %q (known: %s)", n, strings.Join(runs.WorkloadNames(), ", "))
				}
			}
			if threads < 1 || steps < 1 || repeats < 1 {
				return usagef("--threads, --steps and --repeats must be at least 1")
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "attnlab %s, %d thread(s)\n\n", version, threads)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			header := false
			for _, n := range names {
				n = strings.ToUpper(n)
				if n == "W5" {
					continue
				}
				if !header {
					fmt.Fprintln(tw, "workload\ttokens/s\tPyTorch\tratio\tparams\tallocs/step\tMiB/step\t")
					header = true
				}
				res, err := runs.RunWorkload(n, runs.BenchOptions{Steps: steps, Threads: threads})
				if err != nil {
					return err
				}
				pt := pytorchTokens[n]
				fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f×\t%d\t%.0f\t%.1f\t\n", n, res.TokensPerSec, pt, res.TokensPerSec/pt,
					res.Params, res.AllocsPerStep, res.BytesPerStep/(1<<20))
			}
			tw.Flush()
			if slices.ContainsFunc(names, func(s string) bool { return strings.ToUpper(s) == "W5" }) {
				if header {
					fmt.Fprintln(w)
				}
				if err := benchW5(cmd, lengths, repeats, threads); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&threads, "threads", 1, "intra-op threads for matrix products")
	cmd.Flags().IntVar(&steps, "steps", 20, "timed training steps per workload (after 3 warm-up steps)")
	cmd.Flags().IntVar(&repeats, "repeats", 3, "W5: measurements per point (the best is kept)")
	cmd.Flags().IntSliceVar(&lengths, "lengths", []int{256, 512, 1024, 2048, 4096}, "W5: sequence lengths")
	return cmd
}

func benchW5(cmd *cobra.Command, lengths []int, repeats, threads int) error {
	if threads > 1 {
		old := tensor.Threads()
		tensor.SetThreads(threads)
		defer tensor.SetThreads(old)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintln(w, "W5: one multi-head self-attention layer (batch 1, 4 heads × 32), forward + backward")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\tn\tms\tPyTorch ms\tMiB\t")
	for _, v := range []string{"softmax", "chunked", "linear"} {
		var ms, mib []float64
		for _, n := range lengths {
			pt, err := runs.BenchAttention(v, n, repeats)
			if err != nil {
				return err
			}
			ms, mib = append(ms, pt.Ms), append(mib, pt.PeakMiB)
			ref := "—"
			if r, ok := pytorchW5[v][n]; ok {
				ref = fmt.Sprintf("%.1f", r)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%.1f\t\n", v, n, pt.Ms, ref, pt.PeakMiB)
		}
		if len(lengths) > 1 {
			fmt.Fprintf(tw, "%s\tgrowth\tn^%.2f\t\tn^%.2f\t\n", v, runs.GrowthExponent(lengths, ms), runs.GrowthExponent(lengths, mib))
		}
	}
	return tw.Flush()
}

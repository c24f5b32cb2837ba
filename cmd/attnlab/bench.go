package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/bench"
	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/internal/term"
)

func newBenchCmd() *cobra.Command {
	var (
		threads, steps, repeats int
		sentences, generate     int
		lengths                 []int
		compare                 []string
		jsonOut                 outputFlags
	)
	cmd := &cobra.Command{
		Use:   "bench [W1 W2 W3 W4 W5 W6]",
		Short: "Measure the reference workloads (tokens/s, attention time and memory, decoding speed)",
		Long: `bench measures the reference workloads of bench/reference/BENCHMARKS.md on
this machine:

  W1  LSTM encoder-decoder, additive attention (Bahdanau), reverse 10–30
  W2  LSTM encoder-decoder, scaled dot-product attention (Luong order)
  W3  Transformer encoder-decoder, d 128, 4 heads, 2+2 layers
  W4  character GPT (baby GPT), d 128, 4 heads, 4 layers, context 64
  W5  one multi-head self-attention layer against sequence length:
      softmax (scaled dot-product as a model runs it: the dense kernel below
      256 keys, the fused flash kernel, O(n) memory, from 256), chunked
      (exact, key blocks) and linear
  W6  decoding: a GRU translation model (greedy, beam 5) and a GPT
      generating 448 tokens, with its key/value caches (lm-cache) and
      re-running the prefix at every step (lm-nocache)

W1–W4 train with the step every run takes (forward, loss, finiteness
checks, backward, clipping, schedule, optimizer); throughput counts non-pad
target tokens of the timed steps over their wall time, after warm-up
steps. "busy" is the process's CPU time over that wall time: well under
100% × threads means the machine was busy with other work. W5 times what
torch_ref.py's run_w5 times, as it does (a first forward+backward, then
as many repeats of it as run_w5 makes, with the gradients reset: --repeats
sets another number), and reports the median ms per
forward+backward, the least CPU ms of a repeat, the memory the first one
allocates, and the growth exponent of the time and the memory over the
lengths.

bench prints only what it measures. To compare with PyTorch, run
bench/reference/torch_ref.py with --json in the same sitting and pass that
file to --compare: bench then prints PyTorch's figures and the ratios.

On a virtual machine that hands freed memory back to its host (virtio
free page reporting), PyTorch with glibc's default allocator faults its
large tensors in afresh at every step and runs up to 2.5× slower than it
can. Measure it also with the allocator keeping its memory, e.g.
MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=4294967296, or
with tcmalloc in LD_PRELOAD, and pass every file (--compare a.json,b.json):
each ratio is then against PyTorch's best figure.`,
		Example: "  attnlab bench W1 W3\n" +
			"  attnlab bench W4 --threads 2 --json ours.json\n" +
			"  attnlab bench W5 --lengths 256,1024\n" +
			"  attnlab bench --compare torch.json,torch-tcmalloc.json",
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, names []string) error {
			if len(names) == 0 {
				names = bench.Names()
			}
			for i, n := range names {
				if !slices.Contains(bench.Names(), strings.ToUpper(n)) {
					return usagef("unknown workload %q (known: %s)", n, strings.Join(bench.Names(), ", "))
				}
				names[i] = strings.ToUpper(n)
				if slices.Contains(names[:i], names[i]) {
					return usagef("workload %s given twice (each workload is measured once)", names[i])
				}
			}
			// A flag for workloads not selected would be ignored silently.
			for _, f := range []struct {
				flag string
				to   []string
			}{{"steps", []string{"W1", "W2", "W3", "W4"}}, {"lengths", []string{"W5"}}, {"repeats", []string{"W5"}},
				{"sentences", []string{"W6"}}, {"generate", []string{"W6"}}} {
				if cmd.Flags().Changed(f.flag) && !slices.ContainsFunc(names, func(n string) bool { return slices.Contains(f.to, n) }) {
					return usagef("--%s applies to %s only, not to %s", f.flag, strings.Join(f.to, ", "), strings.Join(names, ", "))
				}
			}
			for _, f := range []struct {
				name      string
				v, lo, hi int
				note      string
			}{
				{"--threads", threads, 1, 1024, ""},
				{"--steps", steps, 0, 100000, " (0: as torch_ref.py)"},
				{"--repeats", repeats, 0, 1000, " (0: as torch_ref.py)"},
				{"--sentences", sentences, 1, 100000, ""},
				{"--generate", generate, 1, 4096, ""},
			} {
				if f.v < f.lo || f.v > f.hi {
					return usagef("%s %d: must be from %d to %d%s", f.name, f.v, f.lo, f.hi, f.note)
				}
			}
			for i, n := range lengths {
				if n < 1 || n > bench.MaxAttentionLength {
					return usagef("--lengths: %d: a sequence length from 1 to %d", n, bench.MaxAttentionLength)
				}
				if slices.Contains(lengths[:i], n) {
					return usagef("--lengths: %d given twice (each length is measured once)", n)
				}
			}
			// Refuse a bad --json destination before minutes of measuring.
			var inputs []safeout.Keep
			for _, c := range compare {
				inputs = append(inputs, safeout.Keep{Path: c, What: "a --compare file"})
			}
			dst := jsonOut.target(cmd, "", inputs...)
			if jsonOut.force && (jsonOut.path == "" || jsonOut.path == "-") {
				return usagef("--force replaces the --json file: add --json FILE")
			}
			if jsonOut.path != "" {
				if err := dst.Check(); err != nil {
					return err
				}
			}
			var ref *bench.Reference
			if len(compare) > 0 {
				var err error
				if ref, err = bench.ReadReference(compare...); err != nil {
					return usagef("--compare: %s", strings.TrimPrefix(err.Error(), "bench: ")) // the command names itself
				}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "attnlab %s, %d thread(s)\n", version, threads)
			var rows []any
			if tr := slices.DeleteFunc(slices.Clone(names), func(s string) bool { return s == "W5" || s == "W6" }); len(tr) > 0 {
				res, err := benchTrain(w, outputWidth(cmd), tr, steps, threads, ref)
				if err != nil {
					return err
				}
				rows = append(rows, res...)
			}
			if slices.Contains(names, "W5") {
				res, err := benchW5(w, outputWidth(cmd), lengths, repeats, threads, ref)
				if err != nil {
					return err
				}
				rows = append(rows, res...)
			}
			if slices.Contains(names, "W6") {
				res, err := benchW6(w, bench.DecodeOptions{Sentences: sentences, New: generate, Threads: threads}, ref)
				if err != nil {
					return err
				}
				rows = append(rows, res...)
			}
			if jsonOut.path != "" {
				return dst.Write(func(w io.Writer) error { return writeJSONRows(w, rows) })
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&threads, "threads", 1, "intra-op threads (matrix products and elementwise work)")
	cmd.Flags().IntVar(&steps, "steps", 0, "timed training steps per workload, after 3 warm-up steps (0: as torch_ref.py: W1 40, W2 100, W3 50, W4 150)")
	cmd.Flags().IntVar(&repeats, "repeats", 0, "W5: timed repeats per point, the median reported (0: as torch_ref.py, max(3, min(50, 1.5 s / the first one's time)))")
	cmd.Flags().IntVar(&sentences, "sentences", 1000, "W6: sentences the translation model decodes (the reference: 1000)")
	cmd.Flags().IntVar(&generate, "generate", 448, "W6: tokens the GPT generates after its 64-token prompt (the reference: 448)")
	cmd.Flags().IntSliceVar(&lengths, "lengths", bench.AttentionLengths, "W5: sequence lengths")
	addListFlag(cmd.Flags(), &compare, "compare", "file name", "JSON written by torch_ref.py --json in the same sitting: print PyTorch's figures and the ratios (several files: PyTorch's best figure of each row)")
	cmd.Flags().StringVar(&jsonOut.path, "json", "", `also write the measurements as JSON rows to this file ("-": stdout)`)
	cmd.Flags().BoolVar(&jsonOut.force, "force", false, "replace the --json file if it exists (never a SQLite database or a non-regular file)")
	return cmd
}

func benchTrain(w io.Writer, width int, names []string, steps, threads int, ref *bench.Reference) ([]any, error) {
	fmt.Fprintln(w)
	tw := newStreamTable(w, 8, 9, 8, 5, 9, 11, 8, 16, 16, 6)
	tw.fit(width, []int{8, 8, 8, 5, 0, 0, 0, 15, 16, 6}, 4, 5, 6) // without params, allocs/step, MiB/step
	head := []string{"workload", "tokens/s", "ms/step", "busy", "params", "allocs/step", "MiB/step", "loss first→last"}
	if ref != nil {
		head = append(head, "PyTorch tokens/s", "ratio")
	}
	tw.row(head...)
	var rows []any
	for _, n := range names {
		res, err := bench.Train(n, bench.Options{Steps: steps, Threads: threads})
		if err != nil {
			return nil, err
		}
		rows = append(rows, res)
		cells := []string{n, grouped(res.TokensPerSec), fmt.Sprintf("%.1f", res.MsPerStep),
			fmt.Sprintf("%.0f%%", 100*res.CPUSeconds/res.Seconds), grouped(float64(res.Params)), grouped(res.AllocsPerStep),
			fmt.Sprintf("%.1f", res.BytesPerStep/(1<<20)), fmt.Sprintf("%.3f→%.3f", res.LossFirst, res.LossLast)}
		if ref != nil {
			wl, _ := bench.Lookup(n)
			if pt, ok := ref.Train(wl.Torch, threads); ok {
				cells = append(cells, grouped(pt), ratioText(res.TokensPerSec/pt))
			} else {
				cells = append(cells, "—", "")
			}
		}
		tw.row(cells...)
	}
	return rows, nil
}

func benchW5(w io.Writer, width int, lengths []int, repeats, threads int, ref *bench.Reference) ([]any, error) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "W5: one self-attention layer (batch 1, 4 heads × 32), forward + backward")
	tw := newStreamTable(w, 7, 6, 8, 8, 7, 10, 11, 8, 22)
	if ref != nil {
		tw.fit(width, []int{7, 6, 7, 7, 6, 10, 0, 8, 13}, 6) // without PyTorch MiB
	}
	head := []string{"variant", "n", "ms", "cpu ms", "MiB"}
	if ref != nil {
		head = append(head, "PyTorch ms", "PyTorch MiB", "speed-up")
	}
	tw.row(head...)
	var rows []any
	softMs := map[int]float64{}
	for _, v := range bench.AttentionVariants {
		var ms, mib []float64
		for _, n := range lengths {
			pt, err := bench.Attention(v, n, repeats, threads)
			if err != nil {
				return nil, err
			}
			rows = append(rows, pt)
			ms, mib = append(ms, pt.Ms), append(mib, pt.PeakMiB)
			cells := []string{v, fmt.Sprint(n), fmt.Sprintf("%.2f", pt.Ms), fmt.Sprintf("%.2f", pt.CPUMs), fmt.Sprintf("%.1f", pt.PeakMiB)}
			if v == "softmax" {
				softMs[n] = pt.Ms
			}
			if ref != nil {
				// Chunked attention computes softmax attention: PyTorch's
				// softmax row is its reference.
				tv := v
				if v == "chunked" {
					tv = "softmax"
				}
				if r, ok := ref.Attention(tv, n, threads); ok {
					cells = append(cells, fmt.Sprintf("%.2f", r.Ms), fmt.Sprintf("%.1f", r.PeakMiB), ratioText(r.Ms/pt.Ms))
				} else {
					cells = append(cells, "—", "—", "")
				}
			}
			if v == "chunked" && softMs[n] > 0 {
				note := " softmax's time"
				if tw.narrow {
					note = " softmax"
				}
				cells = append(cells, ratioText(pt.Ms/softMs[n])+note)
			}
			tw.row(cells...)
		}
		if len(lengths) > 1 {
			tw.row(v, "growth", fmt.Sprintf("n^%.2f", bench.GrowthExponent(lengths, ms)), "", fmt.Sprintf("n^%.2f", bench.GrowthExponent(lengths, mib)))
		}
	}
	return rows, nil
}

func benchW6(w io.Writer, opt bench.DecodeOptions, ref *bench.Reference) ([]any, error) {
	threads := opt.Threads
	fmt.Fprintln(w)
	fmt.Fprintf(w, "W6: decoding (GRU translator: %d sentences × 30 tokens; GPT: %d after 64)\n", opt.Sentences, opt.New)
	tw := newStreamTable(w, 10, 12, 12, 8, 5, 12, 6)
	head := []string{"variant", "rate", "unit", "seconds", "busy"}
	if ref != nil {
		head = append(head, "PyTorch", "ratio")
	}
	tw.row(head...)
	var rows []any
	for _, v := range bench.DecodeVariants {
		res, err := bench.Decode(v, opt)
		if err != nil {
			return nil, err
		}
		rows = append(rows, res)
		cells := []string{v, fmt.Sprintf("%.1f", res.PerSec), res.Unit, fmt.Sprintf("%.2f", res.Seconds),
			fmt.Sprintf("%.0f%%", 100*res.CPUSeconds/res.Seconds)}
		if ref != nil {
			if pt, ok := ref.Decode(v, threads); ok {
				cells = append(cells, fmt.Sprintf("%.1f", pt), ratioText(res.PerSec/pt))
			} else {
				cells = append(cells, "—", "")
			}
		}
		tw.row(cells...)
	}
	return rows, nil
}

// ratioText writes a ratio with at most five characters before its ×:
// 0.93×, 12.4×, 180× (a stalled measurement must not push a row past
// the table's width; --json keeps every digit).
func ratioText(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f×", x)
	case x >= 10:
		return fmt.Sprintf("%.1f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// writeJSONRows writes rows as an indented JSON list to w.
func writeJSONRows(w io.Writer, rows []any) error {
	data, err := json.MarshalIndent(rows, "", " ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// streamTable prints right-aligned rows of fixed-width columns as they are
// measured (a tabwriter would hold them back until the end).
type streamTable struct {
	w      io.Writer
	widths []int
	drop   []int // columns left out (fit)
	narrow bool  // fit chose the narrow layout
}

// grouped is x rounded to an integer, with thousands separated: 13,658.
func grouped(x float64) string { return term.Thousands(fmt.Sprintf("%.0f", x)) }

func newStreamTable(w io.Writer, widths ...int) *streamTable {
	return &streamTable{w: w, widths: widths}
}

// fit switches to the narrow layout — widths, with the columns drop left
// out (their figures stay in --json) — when the full one would not fit in
// max columns.
func (t *streamTable) fit(max int, widths []int, drop ...int) {
	full := 0
	for _, w := range t.widths {
		full += 2 + w
	}
	if full > max {
		t.widths, t.drop, t.narrow = widths, drop, true
	}
}

func (t *streamTable) row(cells ...string) {
	var b strings.Builder
	for i, c := range cells {
		if slices.Contains(t.drop, i) {
			continue
		}
		width := 0
		if i < len(t.widths) {
			width = t.widths[i]
		}
		// Pad by characters, not bytes: "→" and "×" are one column each.
		b.WriteString("  " + strings.Repeat(" ", max(0, width-utf8.RuneCountInString(c))) + c)
	}
	fmt.Fprintln(t.w, b.String())
}

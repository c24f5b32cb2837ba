package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/internal/safein"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tasks"
	"github.com/attnlab/attnlab/tensor"
)

// generateFlags are the flags of generate.
type generateFlags struct {
	input         string
	stdin         bool
	beam          int
	lengthPenalty float64
	sample        bool
	temperature   float64
	topK          int
	topP          float64
	seed          uint64
	maxLen        int
	showAttention bool
	unk           bool
}

func newGenerateCmd() *cobra.Command {
	var (
		db  *string
		g   generateFlags
		mem memoryFlag
	)
	cmd := &cobra.Command{
		Use:   "generate RUN (--input TEXT | --stdin)",
		Short: "Decode inputs with the model of a finished run",
		Long: `Rebuild the trained model of a finished run (RUN: its name
EXPERIMENT/POINT/seed=N, its id, a hash prefix, or EXPERIMENT/HASH for runs
that two versions of an experiment give one name) and decode an input with it:
greedy by default, beam search with --beam K, sampling with --sample. The
input is tokenized with the run's own tokenizer and vocabulary; a symbol the
model never saw is an error that lists the ones it knows (--unk feeds it as
<unk> instead).

Sequence-to-sequence runs decode the input into an output, at most the run's
evaluation length by default. Language-model runs continue the input as a
prompt (an empty prompt starts from scratch), 100 tokens by default, and
print the prompt followed by its continuation.

The output of --input goes to a file or a pipe as the model made it; on a
terminal a backslash is shown as \\, a tab as \t and any other control
character as \xHH (ESC as \x1b). --stdin reads one input per line (lines end
in \n or \r\n; a byte-order mark before the first is dropped) and writes
one output per line, to a terminal or a pipe alike, with those escapes and a
newline inside an output as \n, each as soon as it is
decoded: lines that have arrived are decoded together, and a program may wait
for the answer to one line before it writes the next. --show-attention draws the
attention of each output token over the source tokens as a text heatmap.`,
		Example: `  attnlab generate 3 --input abcdef
  attnlab generate 3 --input abcdef --beam 5 --show-attention
  attnlab generate 1a2b3c4d --sample --temperature 0.8 --top-p 0.9 --seed 7 --input "ROMEO:"
  printf 'abc\nbca\n' | attnlab generate 3 --stdin`,
		Args: args(1, "RUN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.check(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			t, err := loadRun(ctx, *db, args[0])
			if err != nil {
				return err
			}
			gen := newGenerator(t, &g, cmd.Flags().Changed)
			gen.width = outputWidth(cmd)
			if err := gen.bound(&mem); err != nil {
				return err
			}
			gen.opt.Context = ctx // Ctrl-C stops a long decoding within a step
			if g.stdin {
				return gen.stream(ctx, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			return gen.one(cmd.OutOrStdout(), cmd.ErrOrStderr(), g.input)
		},
	}
	db = addDBFlag(cmd)
	mem.registerDecoding(cmd)
	f := cmd.Flags()
	f.StringVarP(&g.input, "input", "i", "", "the text to decode (LM: the prompt)")
	f.BoolVar(&g.stdin, "stdin", false, "decode every line of stdin, one output line each")
	f.IntVarP(&g.beam, "beam", "b", 0, "beam search with this beam width")
	addFloatFlag(f, &g.lengthPenalty, "length-penalty", "beam search: GNMT length penalty α (default: the run's eval.decode.length_penalty)")
	f.BoolVar(&g.sample, "sample", false, "sample each token from the model's distribution")
	addFloatFlag(f, &g.temperature, "temperature", "sampling temperature > 0 (default: the run's eval.decode.temperature)")
	f.IntVar(&g.topK, "top-k", 0, "sample among the k most likely tokens (default: the run's eval.decode.top_k; 0: all)")
	addFloatFlag(f, &g.topP, "top-p", "nucleus sampling mass in (0, 1] (default: the run's eval.decode.top_p)")
	f.Uint64Var(&g.seed, "seed", 1, "sampling seed: the same seed gives the same samples (each input from a stream of its own, whatever is decoded with it)")
	f.IntVar(&g.maxLen, "max-len", 0, "most output tokens, the end token included (default: the run's evaluation limit, raised by as many tokens as the input is longer than the run's longest source; LM: 100)")
	f.BoolVarP(&g.showAttention, "show-attention", "a", false, "draw the attention over the source as a text heatmap under each output line (with --stdin too)")
	f.BoolVar(&g.unk, "unk", false, "feed unknown symbols as <unk> instead of failing")
	cmd.MarkFlagsMutuallyExclusive("beam", "sample")
	cmd.MarkFlagsMutuallyExclusive("input", "stdin")
	return cmd
}

// check rejects flag combinations and values that make no sense, before
// anything is loaded.
func (g *generateFlags) check(cmd *cobra.Command) error {
	changed := cmd.Flags().Changed
	if !changed("input") && !g.stdin {
		return usagef("give the text to decode: --input TEXT, or --stdin for one input per line")
	}
	if changed("length-penalty") && !changed("beam") {
		return usagef("--length-penalty applies to beam search: add --beam K")
	}
	for _, name := range []string{"temperature", "top-k", "top-p", "seed"} {
		if changed(name) && !g.sample {
			return usagef("--%s applies to sampling: add --sample", name)
		}
	}
	// The sampling flags given, the others at a valid value: the run's
	// defaults are not known before its model is loaded.
	temperature, topK, topP := 1.0, 0, 1.0
	if changed("temperature") {
		temperature = g.temperature
	}
	if changed("top-k") {
		topK = g.topK
	}
	if changed("top-p") {
		topP = g.topP
	}
	var se *models.SettingError
	if errors.As(models.CheckSampling(temperature, topK, topP), &se) {
		return usagef("--%s %v: %s", se.Name, se.Value, se.Msg)
	}
	switch {
	case changed("beam") && g.beam < 1:
		return usagef("--beam %d: the beam width must be at least 1", g.beam)
	case g.beam > models.MaxBeam:
		return usagef("--beam %d: the beam width must be at most %d", g.beam, models.MaxBeam)
	case changed("length-penalty") && !(g.lengthPenalty >= 0 && !math.IsInf(g.lengthPenalty, 1)):
		return usagef("--length-penalty %v: must be a finite number, not negative", g.lengthPenalty)
	case changed("max-len") && g.maxLen < 1:
		return usagef("--max-len %d: must be at least 1", g.maxLen)
	case g.maxLen > models.MaxDecodeLen:
		return usagef("--max-len %d: must be at most %d", g.maxLen, models.MaxDecodeLen)
	}
	return nil
}

// generator decodes inputs with a trained model.
type generator struct {
	t     *runs.Trained
	flags *generateFlags
	vocab *tasks.Vocab    // the input side's vocabulary
	tok   tasks.Tokenizer // the input side's tokenizer
	opt   models.DecodeOptions
	// maxSrc is the longest source the model takes (0: no limit).
	maxSrc int
	// fixedLen says that opt.MaxLen was given (--max-len): no source
	// raises it (runs.Trained.OutputLimit).
	fixedLen bool
	// unfinished counts the outputs that stopped at the length limit
	// without an end token; lo and hi are the least and the greatest of
	// their limits.
	unfinished int
	lo, hi     int
	// memLimit bounds the memory a batch is estimated to take
	// (experiments.EstimateDecoding; 0: no bound), memWhat names it.
	memLimit int64
	memWhat  string
	// attnNoted says that --show-attention's note on why a model has no
	// heatmap was written (once per command).
	attnNoted bool
	// seed is the sampling seed: input pos samples from its own stream
	// (sampleRNG), whatever inputs share its batch.
	seed uint64
	// width is the page --show-attention's heatmaps fit (outputWidth).
	width int
}

// sampleRNG is the sampling stream of the input at pos: the seed's own
// for the first, so that --input and a first line sample alike.
func (gen *generator) sampleRNG(pos int) *tensor.RNG {
	return tensor.NewRNG(gen.seed ^ uint64(pos)*0x9e3779b97f4a7c15)
}

// bound sets the generator's memory limit from --max-memory (its default:
// a share of the machine's memory).
func (gen *generator) bound(mem *memoryFlag) error {
	limit, what, err := mem.limit()
	if err != nil {
		return err
	}
	gen.memLimit, gen.memWhat = limit, what
	mem.softLimit()
	return nil
}

// decodeMemory estimates decoding batch inputs of at most n tokens at once:
// the encoder (a language model: the prompt, as much of it as its context
// window takes) once per input, and for a beam search the encoder's output
// again for every hypothesis (gathered keys and values) with its decoder step.
func (gen *generator) decodeMemory(batch, n int) int64 {
	if w, ok := gen.t.Model.(interface{ ContextWindow() int }); ok && w.ContextWindow() > 0 {
		n = min(n, w.ContextWindow())
	}
	c, vocab := gen.t.Config, gen.t.Spec.TgtVocab.Len()
	est := experiments.EstimateDecoding(c, vocab, batch, n)
	if gen.opt.Strategy == "beam" && gen.opt.Beam > 1 {
		est += experiments.EstimateDecoding(c, vocab, batch*gen.opt.Beam, n)
	}
	return est
}

// fits reports whether decoding batch inputs of at most n tokens stays
// within the memory limit.
func (gen *generator) fits(batch, n int) bool {
	return gen.memLimit <= 0 || gen.decodeMemory(batch, n) <= gen.memLimit
}

func newGenerator(t *runs.Trained, g *generateFlags, changed func(string) bool) *generator {
	gen := &generator{t: t, flags: g, vocab: t.Spec.SrcVocab, tok: t.Spec.SrcTok}
	if t.Spec.LM {
		gen.vocab, gen.tok = t.Spec.TgtVocab, t.Spec.TgtTok
	}
	d := t.Config.Eval.Decode
	opt := models.DecodeOptions{Strategy: "greedy", MaxLen: t.MaxOut}
	if t.Spec.LM || opt.MaxLen < 1 {
		opt.MaxLen = models.GenerateTokens
	}
	fixed := changed("max-len")
	if fixed {
		opt.MaxLen = g.maxLen
	}
	switch {
	case g.beam > 0:
		opt.Strategy, opt.Beam, opt.LengthPenalty = "beam", g.beam, d.LengthPenalty
		if changed("length-penalty") {
			opt.LengthPenalty = g.lengthPenalty
		}
	case g.sample:
		opt.Strategy, opt.Temperature, opt.TopK, opt.TopP = "sample", d.Temperature, d.TopK, d.TopP
		opt.RNG, gen.seed = tensor.NewRNG(g.seed), g.seed
		if changed("temperature") {
			opt.Temperature = g.temperature
		}
		if changed("top-k") {
			opt.TopK = g.topK
		}
		if changed("top-p") {
			opt.TopP = g.topP
		}
	}
	opt.MaxLen = positionCapped(t, opt.MaxLen)
	gen.opt, gen.fixedLen = opt, fixed || t.Spec.LM
	if m, ok := t.Model.(interface{ MaxDecodeLen() int }); ok && !t.Spec.LM {
		gen.maxSrc = m.MaxDecodeLen()
	}
	return gen
}

// input is one text to decode: its tokens as the tokenizer split them and
// their ids in the model's vocabulary.
type input struct {
	toks []string
	ids  []int
	pos  int // its place among the command's inputs (from 0): its sampling stream
}

// encode tokenizes one input, or returns an error naming the symbols the
// model does not know; where says where the input came from.
func (gen *generator) encode(text, where string) (input, error) {
	if !utf8.ValidString(text) {
		return input{}, fmt.Errorf("%s is not valid UTF-8 text", where)
	}
	in := input{toks: gen.tok.Split(text)}
	in.ids = gen.vocab.Encode(in.toks)
	var unknown []string
	seen := map[string]bool{}
	for i, id := range in.ids {
		// "<unk>" is the unknown token, which a model can write and its
		// data may hold (the Penn Treebank's); it reads back as itself.
		if id == seq.UnkID && in.toks[i] != tasks.UnkToken && !seen[in.toks[i]] {
			seen[in.toks[i]] = true
			unknown = append(unknown, strconv.Quote(in.toks[i]))
		}
	}
	if len(unknown) > 0 && !gen.flags.unk {
		return in, fmt.Errorf("unknown symbols in %s: %s (the model knows: %s)", where, strings.Join(unknown, ", "), gen.known())
	}
	if gen.maxSrc > 0 && len(in.ids) > gen.maxSrc {
		return in, fmt.Errorf("%s has %d tokens; this model takes at most %d (its learned positions, model.max_len, were fixed when it was trained)", where, len(in.ids), gen.maxSrc)
	}
	if !gen.fits(1, len(in.ids)) {
		return in, fmt.Errorf("%s has %d tokens: decoding it is estimated at %s, over %s; give a shorter input, or raise --max-memory",
			where, len(in.ids), experiments.FormatBytes(gen.decodeMemory(1, len(in.ids))), gen.memWhat)
	}
	if gen.flags.showAttention && !gen.t.Spec.LM {
		// Each hypothesis a beam search keeps holds its own rows.
		limit, copies, what := gen.outputLimit(len(in.ids)), 1, ""
		if gen.opt.Strategy == "beam" {
			copies, what = gen.opt.Beam, fmt.Sprintf("%d hypotheses × ", gen.opt.Beam)
		}
		if n := int64(copies) * int64(limit) * int64(len(in.ids)); n > artifact.MaxAttentionWeights {
			return in, fmt.Errorf("%s has %d tokens: too long for --show-attention, whose heatmap would keep up to %s%d × %d attention weights (%s, at most %s); leave the flag out or lower --max-len",
				where, len(in.ids), what, limit, len(in.ids), experiments.FormatBytes(4*n), experiments.FormatBytes(4*artifact.MaxAttentionWeights))
		}
	}
	return in, nil
}

// known lists the first symbols of the input vocabulary.
func (gen *generator) known() string {
	toks := gen.vocab.Tokens()[seq.UnkID+1:]
	const show = 40
	var parts []string
	for i, t := range toks {
		if i == show {
			parts = append(parts, fmt.Sprintf("... (%d in all)", len(toks)))
			break
		}
		parts = append(parts, symbol(t))
	}
	return strings.Join(parts, " ")
}

// positionCapped returns maxLen, at most a sequence-to-sequence model's
// positions (runs.Trained.PositionLimit: models.Decode stops there
// anyway), so that the note on outputs without an end token names the
// limit that stopped them.
func positionCapped(t *runs.Trained, maxLen int) int {
	if p := t.PositionLimit(); p > 0 && !t.Spec.LM {
		return min(maxLen, p)
	}
	return maxLen
}

// symbol shows a token in a list of tokens: a space as ␣, a newline as ↵.
func symbol(t string) string {
	if sign, ok := seq.Symbol(t); ok {
		return sign
	}
	return visible(t)
}

// outputLimit is the most tokens an input of n tokens is decoded to.
func (gen *generator) outputLimit(n int) int {
	if gen.fixedLen {
		return gen.opt.MaxLen
	}
	return gen.t.OutputLimit(n)
}

// decode decodes a batch of inputs (empty seq2seq inputs are not decoded
// and give an empty output). Without --max-len a source longer than the
// run's data gets a longer output limit (runs.Trained.OutputLimit); the
// inputs are decoded in groups of one limit, so that an output never
// depends on which other inputs share its batch.
func (gen *generator) decode(inputs []input) ([]models.Hypothesis, error) {
	out := make([]models.Hypothesis, len(inputs))
	groups := map[int][]int{} // output limit → indices into inputs
	var limits []int
	for i, in := range inputs {
		if len(in.ids) == 0 && !gen.t.Spec.LM {
			continue
		}
		limit := gen.outputLimit(len(in.ids))
		if groups[limit] == nil {
			limits = append(limits, limit)
		}
		groups[limit] = append(groups[limit], i)
	}
	for _, limit := range limits {
		if gen.opt.Strategy == "sample" {
			// One at a time, each from its own stream: a sample never
			// depends on the batch (a terminal's, a pipe's, or the chunks
			// the memory limit makes).
			for _, i := range groups[limit] {
				if err := gen.decodeChunk(inputs, []int{i}, limit, gen.sampleRNG(inputs[i].pos), out); err != nil {
					return nil, err
				}
			}
			continue
		}
		for _, idx := range gen.chunks(inputs, groups[limit]) {
			if err := gen.decodeChunk(inputs, idx, limit, nil, out); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// chunks splits idx (indices into inputs, in order) into batches that each
// fit in the memory limit: as many inputs at once as fit, at least one
// (encode refused an input that does not fit alone).
func (gen *generator) chunks(inputs []input, idx []int) [][]int {
	var out [][]int
	start, longest := 0, 0
	for k, i := range idx {
		n := max(longest, len(inputs[i].ids))
		if k > start && !gen.fits(k-start+1, n) {
			out = append(out, idx[start:k])
			start, n = k, len(inputs[i].ids)
		}
		longest = n
	}
	if start < len(idx) {
		out = append(out, idx[start:])
	}
	return out
}

// decodeChunk decodes the inputs idx (indices into inputs) in one batch,
// with the output limit limit (sampling from rng when not nil), into out.
func (gen *generator) decodeChunk(inputs []input, idx []int, limit int, rng *tensor.RNG, out []models.Hypothesis) error {
	longest := 0
	for _, i := range idx {
		longest = max(longest, len(inputs[i].ids))
	}
	b := &seq.Batch{Size: len(idx)}
	lens := make([]int, len(idx))
	flat := make([]int, len(idx)*longest)
	for j, i := range idx {
		copy(flat[j*longest:], inputs[i].ids)
		lens[j] = len(inputs[i].ids)
	}
	if gen.t.Spec.LM {
		b.T, b.In, b.TgtLen = longest, flat, lens
	} else {
		b.S, b.Src, b.SrcLen = longest, flat, lens
	}
	opt := gen.opt
	opt.MaxLen = limit
	if rng != nil {
		opt.RNG = rng
	}
	if gen.flags.showAttention {
		opt.KeepAttention = b.Size
	}
	hyps, err := models.Decode(gen.t.Model, b, opt)
	if err != nil {
		return err
	}
	for j, i := range idx {
		out[i] = hyps[j]
		if !gen.t.Spec.LM && !hyps[j].Finished {
			if gen.unfinished == 0 || limit < gen.lo {
				gen.lo = limit
			}
			gen.unfinished, gen.hi = gen.unfinished+1, max(gen.hi, limit)
		}
	}
	return nil
}

// unfinishedNote is the note for outputs that stopped at the length limit
// without an end token, "" when none did.
func (gen *generator) unfinishedNote(total int) string {
	if gen.unfinished == 0 {
		return ""
	}
	what := fmt.Sprintf("%d of %d outputs", gen.unfinished, total)
	if total == 1 {
		what = "the output"
	}
	limit := fmt.Sprintf("the length limit of %d tokens", gen.hi)
	raise := " (--max-len raises it)"
	atPositions := gen.hi == gen.t.PositionLimit() && !gen.t.Spec.LM
	switch {
	case atPositions && gen.lo == gen.hi:
		limit = fmt.Sprintf("the model's %d learned positions (its model.max_len, fixed when it was trained)", gen.hi)
		raise = ""
	case atPositions:
		// Some stopped below the positions, at limits --max-len raises.
		limit = fmt.Sprintf("their length limits (%d–%d tokens; %d is the model's learned positions, its model.max_len, fixed when it was trained)", gen.lo, gen.hi, gen.hi)
		raise = " (--max-len raises the limits below the positions)"
	case gen.fixedLen:
		limit = fmt.Sprintf("--max-len %d", gen.opt.MaxLen)
	case gen.lo != gen.hi:
		limit = fmt.Sprintf("their length limits (%d–%d tokens)", gen.lo, gen.hi)
	}
	return fmt.Sprintf("attnlab: note: %s stopped at %s without an end token%s", what, limit, raise)
}

// text returns the output of a hypothesis; for a language model, the
// prompt as typed and its continuation, joined by the tokenizer.
func (gen *generator) text(in input, h models.Hypothesis) string {
	if gen.t.Spec.LM {
		toks := append(slices.Clip(in.toks), gen.t.Spec.TgtVocab.Decode(tasks.Strip(h.Tokens))...)
		return gen.t.Spec.TgtTok.Join(toks)
	}
	return gen.t.Spec.DecodeOutput(h.Tokens)
}

// escapeOutput writes a model's output s as its one line of a file or
// stream: a backslash as \\, a tab as \t, and (when oneLine) a newline as
// \n, so that the escapes read back unambiguously. It is the one
// definition of that format: eval --out writes it byte for byte otherwise
// (data), generate shows it (shownOutput).
func escapeOutput(s string, oneLine bool) string {
	if oneLine {
		return lineEscapes.Replace(s)
	}
	return layoutEscapes.Replace(s)
}

var (
	lineEscapes   = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`)
	layoutEscapes = strings.NewReplacer(`\`, `\\`, "\t", `\t`)
)

// shownOutput is how generate writes a model's output, with --input and
// --stdin alike, to a terminal or a pipe: escapeOutput's escapes, and every
// other character a terminal would act on (ESC, CR, C1 and bidi controls,
// invalid UTF-8) as package printable escapes it (\xHH, \uHHHH), so that an
// output holding ESC cannot drive the terminal. A newline is \n too when
// oneLine (--stdin: one output per line); a single --input output keeps
// its line breaks (a language model's continuation of a text spans lines).
func shownOutput(s string, oneLine bool) string {
	s = escapeOutput(s, oneLine)
	if oneLine {
		return printable.Line(s)
	}
	return printable.Text(s)
}

// writeOneOutput writes the output of --input: to a file or a pipe byte
// for byte, as the model made it (a continuation of LaTeX piped to a .tex
// file keeps its backslashes); to a terminal, where a person reads it, with
// shownOutput's escapes (an ESC is shown, not obeyed, and a written \x1b
// is told from it).
func writeOneOutput(out io.Writer, s string) {
	w := rawWriter(out)
	if _, terminal := w.(*safeWriter); terminal {
		s = shownOutput(s, false)
	}
	fmt.Fprintln(w, s)
}

// one decodes the --input text.
func (gen *generator) one(out, errw io.Writer, text string) error {
	if len(text) > maxStdinLine {
		return usagef("--input: %d bytes, longer than %s, the limit of one input (as of a --stdin line)", len(text), safein.Size(maxStdinLine))
	}
	in, err := gen.encode(text, "--input")
	if err != nil {
		return &usageError{err}
	}
	if len(in.ids) == 0 && !gen.t.Spec.LM {
		return usagef("--input is empty: give the text to decode")
	}
	hyps, err := gen.decode([]input{in})
	if err != nil {
		return err
	}
	writeOneOutput(out, gen.text(in, hyps[0]))
	if gen.flags.showAttention {
		gen.attention(out, errw, in, hyps[0])
	}
	if note := gen.unfinishedNote(1); note != "" {
		fmt.Fprintln(errw, note)
	}
	return nil
}

// stream decodes every line of r, writing one line per input. Lines that
// have arrived are decoded together, up to a batch of 32 (one when r is a
// terminal or with --show-attention); a batch is not held back waiting for
// more, so a program that writes a line and waits for its answer gets it.
func (gen *generator) stream(ctx context.Context, r io.Reader, out, errw io.Writer) error {
	batch := 32
	if isTerminal(r) || gen.flags.showAttention {
		batch = 1 // --show-attention: one input's weights at a time
	}
	w := bufio.NewWriter(out)
	defer w.Flush()
	var inputs []input
	flush := func() error {
		hyps, err := gen.decode(inputs)
		if err != nil {
			return err
		}
		for i, h := range hyps {
			fmt.Fprintln(w, shownOutput(gen.text(inputs[i], h), true))
			if gen.flags.showAttention {
				gen.attention(w, errw, inputs[i], h)
			}
		}
		inputs = inputs[:0]
		return w.Flush()
	}
	// Lines are read by a goroutine of their own, so that an interrupt stops
	// the command even while stdin (a terminal, a slow pipe) has nothing to
	// read.
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxStdinLine)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	texts := make(chan string, batch) // the next batch is read while one decodes
	readErr := make(chan error, 1)
	go func() {
		defer close(texts)
		for sc.Scan() {
			select {
			case texts <- sc.Text():
			case <-readCtx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	line := 0
	for {
		var text string
		var ok bool
		if len(inputs) > 0 {
			select { // a line already read joins the batch; else it is decoded now
			case <-ctx.Done():
				return ctx.Err()
			case text, ok = <-texts:
			default:
				if err := flush(); err != nil {
					return err
				}
				continue
			}
		} else {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case text, ok = <-texts:
			}
		}
		if !ok {
			break
		}
		line++
		if line == 1 {
			// A file saved with a byte-order mark (Windows' editors) starts
			// with one: dropped, as data files and eval drop it.
			text = strings.TrimPrefix(text, "\ufeff")
		}
		in, err := gen.encode(strings.TrimSuffix(text, "\r"), fmt.Sprintf("stdin line %d", line))
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return err
		}
		in.pos = line - 1
		inputs = append(inputs, in)
		if len(inputs) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := <-readErr; errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("stdin line %d: longer than %s, the limit of one input line", line+1, safein.Size(maxStdinLine))
	} else if err != nil {
		return fmt.Errorf("read stdin line %d: %w", line+1, err)
	}
	if err := flush(); err != nil {
		return err
	}
	if note := gen.unfinishedNote(line); note != "" {
		fmt.Fprintln(errw, note)
	}
	return nil
}

// maxStdinLine bounds one line of generate --stdin: as a line of a data
// file (a line of megabytes would take gigabytes to encode).
const maxStdinLine = tasks.MaxLineBytes

// attention draws the hypothesis's attention over the source tokens (as
// the model saw them), or says why there is none: once, as the reason is
// the model's, not the input's. An empty source, which is not decoded,
// draws nothing.
func (gen *generator) attention(out, errw io.Writer, in input, h models.Hypothesis) {
	note := func(format string, a ...any) {
		if !gen.attnNoted {
			gen.attnNoted = true
			fmt.Fprintf(errw, format, a...)
		}
	}
	if gen.t.Spec.LM {
		note("attnlab: note: --show-attention: run %d is a language model (%s): it has no source to attend over\n", gen.t.Run.ID, gen.t.Config.Model.Name)
		return
	}
	if len(in.ids) == 0 {
		return
	}
	if h.Attention == nil {
		what := "model " + gen.t.Config.Model.Name
		if a := gen.t.Config.Model.Attention; a != nil {
			what = "attention " + a.Name
		}
		note("attnlab: note: --show-attention: run %d has no attention weights to show (%s)\n", gen.t.Run.ID, what)
		return
	}
	zero := true
	for _, row := range h.Attention {
		for _, x := range row {
			zero = zero && x == 0
		}
	}
	if zero {
		note("attnlab: run %d's attention weights are all 0 (attention none: the decoder sees only the encoder's final state)\n", gen.t.Run.ID)
		return
	}
	rows := gen.t.Spec.TgtVocab.Decode(h.Tokens)
	if h.Finished {
		rows = append(rows, tasks.EOSToken)
	}
	writeHeatmap(out, gen.vocab.Decode(in.ids), rows, h.Attention, gen.width)
}

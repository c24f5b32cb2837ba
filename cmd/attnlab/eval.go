package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/safein"
	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tasks"
)

// evalFlags are the flags of eval.
type evalFlags struct {
	src, ref  string
	beam      int
	maxLen    int
	tokenize  string
	lowercase bool
	out       outputFlags
	asJSON    bool
}

// evalBatch is the number of lines decoded at once.
const evalBatch = 32

func newEvalCmd() *cobra.Command {
	var (
		db  *string
		f   evalFlags
		mem memoryFlag
	)
	cmd := &cobra.Command{
		Use:   "eval RUN (FILE.tsv | --src FILE --ref FILE)",
		Short: "Score the model of a finished run on any file: BLEU, chrF, exact match",
		Long: `Decode every source line of a file with the model of a finished run (RUN: its id,
a hash prefix, EXPERIMENT/POINT/seed=N, or EXPERIMENT/HASH for runs that two
versions of an experiment give one name) and score the outputs against the
references, as the run's evaluation scores its test split:

  BLEU     sacreBLEU's corpus BLEU, 0–100, on the detokenized outputs against the
           references as written (the run's eval.bleu tokenizer — auto: 13a
           for word targets, char for character targets — and case;
           --tokenize and --lowercase override them)
  chrF2    sacreBLEU's chrF (character 6-grams, β = 2), and chrF++ (plus word
           1- and 2-grams)
  exact    the fraction of outputs equal to their reference, token by token as
           the run's target tokenizer splits both

Each score is printed as sacreBLEU prints it, with its signature, so that it can
be compared with a paper's. FILE.tsv holds source<TAB>reference lines (empty lines
are skipped); --src and --ref are two files aligned line by line, every line
scored (an empty source gives an empty output). Source tokens the model's
vocabulary lacks are fed as <unk> (a note on stderr counts them); when it lacks
every one, eval refuses (exit 2): the file is not the run's kind of data.

Decoding is the run's own (eval.decode; greedy unless the run says otherwise);
--beam K searches with a beam of K. An output stops at the run's length limit
(its longest target plus 10, or eval.decode.max_len), raised by as many tokens
as a source is longer than the run's longest, so that inputs longer than any in
training are not cut at the training lengths; --max-len sets it. Outputs that
stop at the limit without an end token are counted on stderr (and as
"unfinished" in --json). --out writes the outputs, one line each,
aligned with the scored lines (a backslash, newline or tab inside an output
is written as \\, \n or \t); with --out - they go to stdout and the scores to
stderr (on a terminal, control characters such as ESC are shown escaped). --out never replaces a SQLite database such as the run database,
the input files or a file that is not a regular file, and an existing file
only with --force.`,
		Example: `  attnlab eval 3 newstest.tsv
  attnlab eval 3 --src test.de --ref test.en --beam 5 --out hyps.en
  attnlab eval my-exp/additive/seed=1 test.tsv --tokenize intl --json`,
		Args: args(1, "RUN", "FILE.tsv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := ""
			if len(args) > 1 {
				file = args[1]
			}
			if err := f.check(cmd, file); err != nil {
				return err
			}
			var dst safeout.Target
			if f.out.path != "" {
				dst = f.out.target(cmd, *db,
					safeout.Keep{Path: file, What: "the input file"},
					safeout.Keep{Path: f.src, What: "the --src file"},
					safeout.Keep{Path: f.ref, What: "the --ref file"})
				if err := dst.Check(); err != nil {
					return err
				}
			}
			lines, err := f.read(file)
			if err != nil {
				return &usageError{err}
			}
			ctx := cmd.Context()
			t, err := loadRun(ctx, *db, args[0])
			if err != nil {
				return err
			}
			if t.Spec.LM {
				return usagef("run %d is a language model (%s): eval scores the outputs of source lines; give a sequence-to-sequence run", t.Run.ID, t.Config.Model.Name)
			}
			bleu := t.Config.Eval.BLEU
			if cmd.Flags().Changed("tokenize") {
				bleu.Tokenize = f.tokenize
			}
			if cmd.Flags().Changed("lowercase") {
				bleu.Lowercase = f.lowercase
			}
			sc, err := runs.NewScorer(bleu, t.Spec.TgtTok)
			if err != nil {
				return err
			}
			opt := t.DecodeOptions()
			opt.Context = ctx // Ctrl-C stops the decoding within a step
			if f.beam > 0 {
				opt.Strategy, opt.Beam = "beam", f.beam
			}
			fixed := cmd.Flags().Changed("max-len")
			if fixed {
				opt.MaxLen = f.maxLen
			}
			outs, unk, gen, err := decodeLines(t, opt, fixed, lines, &mem)
			if err != nil {
				return err
			}
			if note := gen.unfinishedNote(len(lines)); note != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), note)
			}
			refs := make([]string, len(lines))
			for i, l := range lines {
				refs[i] = l.ref
			}
			scores := sc.Score(outs, refs)
			if unk.tokens > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "attnlab: note: %d of %d source tokens are not in run %d's vocabulary and were fed as <unk> (%s)\n",
					unk.tokens, unk.total, t.Run.ID, unk.examples())
			}
			if f.out.path != "" {
				err := dst.Write(func(w io.Writer) error {
					for _, o := range outs {
						if _, err := io.WriteString(w, escapeOutput(o, true)+"\n"); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			what := f.src
			if file != "" {
				what = file
			}
			report := cmd.OutOrStdout()
			if f.out.path == "-" {
				report = cmd.ErrOrStderr() // stdout holds the outputs, one per line
			}
			return writeEval(report, f.asJSON, evalReport{Run: t.Run.ID, File: what, Lines: len(lines), Decoding: decoding(opt),
				Unfinished: gen.unfinished, scores: scores})
		},
	}
	db = addDBFlag(cmd)
	mem.registerDecoding(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.src, "src", "", "file of source lines (with --ref, instead of FILE.tsv)")
	fl.StringVar(&f.ref, "ref", "", "file of reference lines, aligned line by line with --src")
	fl.IntVarP(&f.beam, "beam", "b", 0, "beam search with this beam width (default: the run's eval.decode)")
	fl.IntVar(&f.maxLen, "max-len", 0, "most output tokens, the end token included (default: the run's evaluation limit, raised by as many tokens as a source is longer than the run's longest)")
	fl.StringVar(&f.tokenize, "tokenize", "", "BLEU tokenizer: "+strings.Join(experiments.BLEUTokenizers, ", ")+" (default: the run's eval.bleu.tokenize)")
	fl.BoolVar(&f.lowercase, "lowercase", false, "case-insensitive BLEU (default: the run's eval.bleu.lowercase)")
	fl.StringVar(&f.out.path, "out", "", "write the outputs to this file, one line each (\"-\": stdout, the scores then to stderr)")
	fl.BoolVar(&f.out.force, "force", false, "replace the --out file if it exists (never a SQLite database, an input file or a non-regular file)")
	fl.BoolVar(&f.asJSON, "json", false, "print the scores as JSON")
	return cmd
}

// check rejects flag combinations and values that make no sense, before
// anything is read.
func (f *evalFlags) check(cmd *cobra.Command, file string) error {
	changed := cmd.Flags().Changed
	switch {
	case file != "" && (changed("src") || changed("ref")):
		return usagef("give FILE.tsv or --src and --ref, not both")
	case changed("src") && !changed("ref"):
		return usagef("--src needs --ref, the file of reference lines aligned with it")
	case changed("ref") && !changed("src"):
		return usagef("--ref needs --src, the file of source lines aligned with it")
	case file == "" && f.src == "":
		return usagef("missing FILE.tsv (source<TAB>reference lines), or --src and --ref files")
	case changed("beam") && f.beam < 1:
		return usagef("--beam %d: the beam width must be at least 1", f.beam)
	case f.beam > models.MaxBeam:
		return usagef("--beam %d: the beam width must be at most %d", f.beam, models.MaxBeam)
	case changed("max-len") && f.maxLen < 1:
		return usagef("--max-len %d: must be at least 1", f.maxLen)
	case f.maxLen > models.MaxDecodeLen:
		return usagef("--max-len %d: must be at most %d", f.maxLen, models.MaxDecodeLen)
	case changed("tokenize") && !slices.Contains(experiments.BLEUTokenizers, f.tokenize):
		return usagef("--tokenize %q: unknown BLEU tokenizer (known: %s)", f.tokenize, strings.Join(experiments.BLEUTokenizers, ", "))
	case changed("out") && f.out.path == "":
		return usagef(`--out "": empty output path`)
	case changed("force") && f.out.path == "":
		return usagef("--force applies to --out: add --out FILE")
	case f.out.path == "-" && f.asJSON:
		return usagef("--out - with --json: give --out a file (the outputs take stdout, and JSON on stderr would mix with eval's notes)")
	}
	return nil
}

// evalLine is one scored line: its source and reference text, and where it
// is (FILE:LINE) for errors.
type evalLine struct {
	src, ref, where string
}

// read reads the lines to score: FILE.tsv, or --src and --ref.
func (f *evalFlags) read(file string) ([]evalLine, error) {
	if file != "" {
		text, err := readLines(file)
		if err != nil {
			return nil, err
		}
		var out []evalLine
		for i, l := range text {
			if l == "" {
				continue
			}
			src, ref, ok := strings.Cut(l, "\t")
			switch {
			case !ok:
				return nil, fmt.Errorf("%s:%d: no tab between source and reference", file, i+1)
			case strings.Contains(ref, "\t"):
				return nil, fmt.Errorf("%s:%d: more than one tab (want source<TAB>reference)", file, i+1)
			}
			out = append(out, evalLine{src: src, ref: ref, where: fmt.Sprintf("%s:%d", file, i+1)})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no lines to score, only empty ones", file)
		}
		return out, nil
	}
	srcs, err := readLines(f.src)
	if err != nil {
		return nil, err
	}
	refs, err := readLines(f.ref)
	if err != nil {
		return nil, err
	}
	if len(srcs) != len(refs) {
		return nil, fmt.Errorf("%s has %d lines but %s has %d: the files must be aligned line by line", f.src, len(srcs), f.ref, len(refs))
	}
	out := make([]evalLine, len(srcs))
	for i := range srcs {
		out[i] = evalLine{src: srcs[i], ref: refs[i], where: fmt.Sprintf("%s:%d", f.src, i+1)}
	}
	return out, nil
}

// maxEvalFile bounds the size of a file eval scores (256 MiB), and
// maxEvalLines its lines: eval decodes them all and keeps their outputs, so
// a file of millions of tiny lines would take gigabytes. A line is at most
// tasks.MaxLineBytes, as in a data file.
const (
	maxEvalFile  = 256 << 20
	maxEvalLines = 1_000_000
)

// readLines returns the lines of a UTF-8 text file, without their "\n" or
// "\r\n" (a final newline ends the last line; a leading byte-order mark is
// dropped), or a one-line error naming the file. Only a regular file of at
// most maxEvalFile bytes is read (internal/safein): a FIFO or a device is
// refused at once, without blocking.
func readLines(path string) ([]string, error) {
	b, err := safein.ReadFile(path, maxEvalFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: empty file", path)
	}
	if !utf8.Valid(b) {
		lines := bytes.Split(b, []byte("\n"))
		for i, l := range lines {
			if !utf8.Valid(l) {
				return nil, fmt.Errorf("%s:%d: invalid UTF-8", path, i+1)
			}
		}
	}
	if n := bytes.Count(b, []byte("\n")); n > maxEvalLines {
		return nil, fmt.Errorf("%s: %d lines, more than %d (the limit of one eval): split the file", path, n, maxEvalLines)
	}
	// Each line is checked on the file's bytes, before they are copied
	// into the text: a file of one line of 256 MiB is refused without
	// taking its size twice.
	for i, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) > tasks.MaxLineBytes {
			return nil, fmt.Errorf("%s:%d: line of %d bytes, longer than %s (the limit)", path, i+1, len(l), safein.Size(tasks.MaxLineBytes))
		}
		if bytes.IndexByte(l, 0) >= 0 { // as a data file's
			return nil, fmt.Errorf("%s:%d: NUL byte: UTF-16 or binary, not UTF-8 text", path, i+1)
		}
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines, nil
}

// unknownTokens counts the source tokens fed as <unk>.
type unknownTokens struct {
	tokens, total int
	distinct      []string
}

// examples lists the first distinct unknown tokens.
func (u unknownTokens) examples() string {
	const show = 8
	var parts []string
	for i, t := range u.distinct {
		if i == show {
			parts = append(parts, fmt.Sprintf("… %d distinct", len(u.distinct)))
			break
		}
		parts = append(parts, strconv.Quote(t))
	}
	return strings.Join(parts, ", ")
}

// decodeLines decodes the source of every line with the run's model, in
// batches, and returns the outputs as text, the count of source tokens fed
// as <unk>, and the generator (its count of outputs that stopped at the
// length limit). Sources none of whose tokens the run knows are a usage
// error, before any decoding.
func decodeLines(t *runs.Trained, opt models.DecodeOptions, fixedLen bool, lines []evalLine, mem *memoryFlag) ([]string, unknownTokens, *generator, error) {
	opt.MaxLen = positionCapped(t, opt.MaxLen)
	gen := &generator{t: t, flags: &generateFlags{unk: true}, vocab: t.Spec.SrcVocab, tok: t.Spec.SrcTok, opt: opt, fixedLen: fixedLen}
	if err := gen.bound(mem); err != nil {
		return nil, unknownTokens{}, nil, err
	}
	gen.seed = runs.SampleSeed(t.Config) // a run's eval.decode strategy may sample
	if m, ok := t.Model.(interface{ MaxDecodeLen() int }); ok {
		gen.maxSrc = m.MaxDecodeLen()
	}
	// Every source is checked and its unknown tokens counted first, then
	// encoded again batch by batch for decoding: a source's tokens and ids
	// take many times its bytes, and keeping every source's took 3 GiB
	// for a 200 MB file.
	var unk unknownTokens
	seen := map[string]bool{}
	for _, l := range lines {
		in, err := gen.encode(l.src, l.where)
		if err != nil {
			return nil, unk, nil, &usageError{err}
		}
		for j, id := range in.ids {
			if id == seq.UnkID {
				unk.tokens++
				if tok := in.toks[j]; !seen[tok] {
					seen[tok] = true
					unk.distinct = append(unk.distinct, tok)
				}
			}
		}
		unk.total += len(in.ids)
	}
	if unk.total > 0 && unk.tokens == unk.total {
		return nil, unk, nil, usagef("none of the %d source tokens is in run %d's vocabulary (%s): its scores would measure nothing; is this the run's data, and its tokenizer (%s)?",
			unk.total, t.Run.ID, unk.examples(), t.Spec.SrcTok.Name())
	}
	outs := make([]string, 0, len(lines))
	inputs := make([]input, 0, evalBatch)
	for start := 0; start < len(lines); start += evalBatch {
		inputs = inputs[:0]
		for i := start; i < min(start+evalBatch, len(lines)); i++ {
			in, err := gen.encode(lines[i].src, lines[i].where)
			if err != nil {
				return nil, unk, nil, &usageError{err}
			}
			in.pos = i
			inputs = append(inputs, in)
		}
		hyps, err := gen.decode(inputs)
		if err != nil {
			return nil, unk, nil, err
		}
		for _, h := range hyps {
			outs = append(outs, t.Spec.DecodeOutput(h.Tokens))
		}
	}
	return outs, unk, gen, nil
}

// decoding describes decoding options: "greedy", "beam search, beam 5,
// length penalty 0.6", "sampling, temperature 1, top-k 0, top-p 1"; a
// beam of one is "greedy (beam 1)", which it is (models' beamSearch).
func decoding(o models.DecodeOptions) string {
	switch o.Strategy {
	case "beam":
		if o.Beam == 1 {
			return "greedy (beam 1)"
		}
		return fmt.Sprintf("beam search, beam %d, length penalty %g", o.Beam, o.LengthPenalty)
	case "sample":
		return fmt.Sprintf("sampling, temperature %g, top-k %d, top-p %g", o.Temperature, o.TopK, o.TopP)
	}
	return o.Strategy
}

// evalReport is what eval prints.
type evalReport struct {
	Run        int64            `json:"run"`
	File       string           `json:"file"`
	Lines      int              `json:"lines"`
	Decoding   string           `json:"decoding"`
	Scores     []artifact.Score `json:"scores"`
	ExactMatch float64          `json:"exact_match"`
	Exact      int              `json:"exact"`
	// Unfinished counts the outputs that stopped at the length limit
	// without an end token.
	Unfinished int `json:"unfinished"`
	scores     runs.TextScores
}

func writeEval(w io.Writer, asJSON bool, r evalReport) error {
	r.Scores = r.scores.Artifacts("eval")
	for i := range r.Scores {
		r.Scores[i].Key = strings.TrimPrefix(r.Scores[i].Key, "eval/")
	}
	r.Exact, r.ExactMatch = r.scores.Exact, r.scores.ExactMatch()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(w, "run %d on %s: %s, decoding: %s\n", r.Run, r.File, plural(r.Lines, "line"), r.Decoding)
	for _, s := range r.Scores {
		fmt.Fprintln(w, s.Line())
	}
	_, err := fmt.Fprintf(w, "exact match = %.4f (%d of %d)\n", r.ExactMatch, r.Exact, r.Lines)
	return err
}

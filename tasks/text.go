package tasks

import (
	"fmt"
	"strings"

	"github.com/attnlab/attnlab/registry"
)

// TextParams are the parameters of the text task: a UTF-8 text file as a
// language-modelling corpus. The file's tokens are split contiguously: the
// first 1 − valid_fraction − test_fraction of them are train, then valid,
// then test. Each split is cut into windows of context+1 tokens with stride
// context, so consecutive windows share one token and every token but the
// split's first is predicted exactly once; the last window may be shorter
// (at least 2 tokens). The vocabulary is built from train only.
type TextParams struct {
	Path          string  `yaml:"path" doc:"UTF-8 text file (relative to the experiment file)"`
	Tokenizer     string  `yaml:"tokenizer" doc:"char (every character, newlines included) or word (whitespace-separated)"`
	Context       int     `yaml:"context" doc:"tokens of context: examples are windows of context+1 tokens" range:"[1,65536]"`
	ValidFraction float64 `yaml:"valid_fraction" doc:"fraction of the text after train used for validation" range:"[0,1)"`
	TestFraction  float64 `yaml:"test_fraction" doc:"fraction at the end of the text used for test" range:"[0,1)"`
	MinCount      int     `yaml:"min_count" doc:"training tokens seen fewer times become <unk>" range:"[1,1000000000]"`
	MaxVocab      int     `yaml:"max_vocab" doc:"largest vocabulary, reserved ids included (0: no limit)" range:"[0,10000000]"`
}

func defaultTextParams() *TextParams {
	return &TextParams{Tokenizer: "char", Context: 64, ValidFraction: 0.05, TestFraction: 0.05, MinCount: 1}
}

// Windowed is implemented by the parameters of language-modelling tasks
// whose examples are windows of a fixed number of tokens of context: the
// length a model trains at, which evaluation at other context lengths
// (eval.context) may exceed.
type Windowed interface {
	// Window returns the training context in tokens.
	Window() int
}

var _ Windowed = (*TextParams)(nil)

// Window returns the context.
func (p *TextParams) Window() int { return p.Context }

// Validate checks the keys; the file itself is read by the factory.
func (p *TextParams) Validate() error {
	if p.Path == "" {
		return registry.Invalid("path", "required: the text file to model")
	}
	if err := validateTokenizer("tokenizer", p.Tokenizer); err != nil {
		return err
	}
	if p.Context < 1 || p.Context > 65536 {
		return registry.Invalid("context", "must be in [1, 65536], got %d", p.Context)
	}
	if err := validateFractions(p.ValidFraction, p.TestFraction); err != nil {
		return err
	}
	return validateVocab(p.MinCount, p.MaxVocab)
}

// MaxLengths returns the longest window: context+1 tokens.
func (p *TextParams) MaxLengths() (src, tgt int) { return 0, p.Context + 1 }

// Files returns the text file the task reads.
func (p *TextParams) Files() map[string]string { return nonEmpty(map[string]string{"path": p.Path}) }

func init() {
	Registry.Register(Entry{
		Name:   "text",
		Doc:    "language modelling on a UTF-8 text file, character-level by default",
		Params: defaultTextParams(),
		New:    newText,
		Caps:   []registry.Capability{LanguageModel},
	})
}

func newText(params any, opt Options) (*Dataset, error) {
	p := paramsOf(params, defaultTextParams())
	c, err := readCorpus(p, opt, true)
	if err != nil {
		return nil, err
	}
	var ids [3][]int32
	for i := range ids {
		ids[i] = c.ids[splitStart(c.ends, i):c.ends[i]:c.ends[i]]
	}
	return &Dataset{Name: "text", LM: true, SrcVocab: c.vocab, TgtVocab: c.vocab, SrcTok: c.tok, TgtTok: c.tok,
		Train: Windows(ids[splitTrain], p.Context), Valid: Windows(ids[splitValid], p.Context), Test: Windows(ids[splitTest], p.Context),
		TestTokens: ids[splitTest]}, nil
}

var _ FileBytes = (*TextParams)(nil)

// FileBytes returns 1, since the text shares the bytes the file was read
// into and everything else adds to them, and at most the file's bytes, an
// int32 id (4 bytes) for every token there can be (one a byte with the
// char tokenizer, one every two bytes with the word tokenizer: a word and
// the space after it) and a byte a file byte for the vocabulary: 6 and 4.
// (The vocabulary charges about 400 bytes a distinct token: a 200 KB
// char corpus's 40 characters took 7 KB; a text of mostly distinct words
// takes more.)
func (p *TextParams) FileBytes() (least, most int64) {
	if p.Tokenizer == "word" {
		return 1, 1 + streamIDBytes/2 + 1
	}
	return 1, 1 + streamIDBytes + 1
}

var _ measurer = (*TextParams)(nil)

// measure returns what CheckData reports of the dataset newText builds,
// without its ids (4 bytes a token: a 200 MB character corpus would take
// 800 MB only to be measured).
func (p *TextParams) measure(opt Options) (DataCheck, error) {
	c, err := readCorpus(p, opt, false)
	if err != nil {
		return DataCheck{}, err
	}
	var windows [3]int
	longest := 0
	for i := range c.ends {
		n := c.ends[i] - splitStart(c.ends, i)
		if windows[i] = windowCount(n, p.Context); windows[i] > 0 {
			longest = max(longest, min(n, p.Context+1))
		}
	}
	v := c.vocab.Len()
	return DataCheck{Tgt: longest, Bytes: opt.budget.used, Vocab: v, Sizes: DataSizes{LM: true,
		Train: windows[splitTrain], Valid: windows[splitValid], Test: windows[splitTest], SrcVocab: v, TgtVocab: v,
		TestTokens: c.ends[splitTest] - c.ends[splitValid]}}, nil
}

// corpus is a text task's file read and tokenized.
type corpus struct {
	tok   Tokenizer
	vocab *Vocab
	ends  [3]int  // each split's end, in tokens
	ids   []int32 // every token's id (nil if not kept)
}

// readCorpus reads and tokenizes p's file, and keeps the ids of its
// tokens if keepIDs; the budget is charged for them either way.
func readCorpus(p *TextParams, opt Options, keepIDs bool) (*corpus, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	tok, _ := TokenizerByName(p.Tokenizer)
	s, err := readText("text", p.Path, opt)
	if err != nil {
		return nil, err
	}
	if err := checkReserved(tok, s); err != nil {
		return nil, fmt.Errorf("text: %s:%w", p.Path, err)
	}
	// The file is read twice as tokens (count, then index) and never held
	// as a []string: what stays is one int32 per token. Both passes go a
	// piece at a time, so that a done opt.Context stops them.
	n := 0
	if err := eachPiece(opt.Context, s, func(piece string) { n += countValidTokens(tok, piece) }); err != nil { // readText checked s
		return nil, fmt.Errorf("text: %s: %w", p.Path, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("text: %s: no tokens: the %s tokenizer finds none in a file of white space only", p.Path, tok.Name())
	}
	nTest := fractionCount(p.TestFraction, n)
	nValid := fractionCount(p.ValidFraction, n)
	ends := [3]int{n - nValid - nTest, n - nTest, n} // each split's end, in tokens
	for i, frac := range [3]float64{1, p.ValidFraction, p.TestFraction} {
		if size := ends[i] - splitStart(ends, i); frac > 0 && size < 2 {
			return nil, fmt.Errorf("text: %s: %d %s tokens of %d, need at least 2: use a longer file or a larger %s fraction",
				p.Path, size, splitNames[i], n, splitNames[i])
		}
	}
	b := opt.budget
	// The ids (the splits' windows and TestTokens share them, and a
	// window becomes an Example only in its batch); readText charged the
	// file's bytes, which are the text.
	if !b.take(streamIDBytes * n) {
		return nil, b.err("text", p.Path)
	}
	// One pass over the tokens numbers them (tokenIndex); the ids then
	// follow from the vocabulary, in place.
	var all []int32
	if keepIDs {
		all = make([]int32, 0, n)
	}
	index, i := newTokenIndex(b), 0
	err = eachPiece(opt.Context, s, func(piece string) {
		eachValidToken(tok, piece, func(t string) {
			k := index.add(t, i < ends[splitTrain])
			if keepIDs {
				all = append(all, int32(k))
			}
			i++
		})
	})
	if err != nil {
		return nil, fmt.Errorf("text: %s: %w", p.Path, err)
	}
	if b.over() {
		return nil, b.err("text", p.Path)
	}
	counts := index.trainCounts()
	v := vocabOfCounts(counts, p.MinCount, p.MaxVocab)
	if err := checkVocab(v, counts, p.MinCount, "text", p.Path, ""); err != nil {
		return nil, err
	}
	idOf := index.ids(v)
	for i, k := range all {
		all[i] = idOf[k]
	}
	return &corpus{tok: tok, vocab: v, ends: ends, ids: all}, nil
}

// checkReserved returns the first token of s (tok) that data may not
// contain, as ":line: token ... is reserved ...", or nil. Only a text that
// has one of the reserved strings is split into lines to find it.
func checkReserved(tok Tokenizer, s string) error {
	if !strings.Contains(s, PadToken) && !strings.Contains(s, BOSToken) && !strings.Contains(s, EOSToken) {
		return nil
	}
	n := 0
	for line := range strings.Lines(s) {
		n++
		if t := reservedIn(tok, line); t != "" {
			return fmt.Errorf("%d: %w", n, &reservedError{tok: t})
		}
	}
	return nil
}

// splitStart returns where split i starts, given every split's end.
func splitStart(ends [3]int, i int) int {
	if i == 0 {
		return 0
	}
	return ends[i-1]
}

// windowCount returns how many windows Windows cuts from n tokens.
func windowCount(n, context int) int {
	if n < 2 {
		return 0
	}
	return (n - 2 + context) / context
}

package tasks

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/attnlab/attnlab/registry"
)

// PairsParams are the parameters of the pairs task: source/target pairs
// from files, either one TSV file of source<TAB>target lines (path) or two
// files aligned line by line (src_path, tgt_path). There is no header
// line: every line is a pair. A first line that names the two columns
// (source and target, src and tgt, or input and output, in any case, as
// "source<TAB>target" or src_path's "src" beside tgt_path's "tgt") is
// refused as a problem of the data, naming the file's line 1: it would be
// trained on as a pair. (A true pair of such words is kept by moving it
// off line 1.) Lines end in "\n" or "\r\n"; a file of lines ended
// by a lone "\r" is refused. Empty lines are skipped (in two files, only
// when both are empty).
//
// The pairs are split by a shuffle of their distinct sources seeded by the
// run's seed: a test_fraction of the sources goes to test, a valid_fraction
// to valid, the rest to train, so every pair with the same source lands in
// the same split and no source appears in two splits. Each seed draws its
// own split, so a mean ± std over seeds includes the split's variance.
// valid_path or test_path, TSV files, replace the drawn valid or test split
// (a fixed split for every seed; then all pairs of the main file not used
// by the other drawn split are train): their sources may also be training
// sources, which runs measure as test/src_in_train and compare notes (a
// file that is the training file itself, by path or contents, is refused
// by plan as a lint: see HeldOutFiles). Each side is tokenized by its tokenizer; the vocabularies are
// built from train only. Each example keeps its target line as written
// (Example.Ref), the reference that outputs are scored against.
type PairsParams struct {
	Path          string  `yaml:"path" doc:"TSV file of source<TAB>target lines, no header line (or give src_path and tgt_path)"`
	SrcPath       string  `yaml:"src_path" doc:"file of source lines, aligned line by line with tgt_path"`
	TgtPath       string  `yaml:"tgt_path" doc:"file of target lines, aligned line by line with src_path"`
	ValidPath     string  `yaml:"valid_path" doc:"TSV file of validation pairs, instead of valid_fraction"`
	TestPath      string  `yaml:"test_path" doc:"TSV file of test pairs, instead of test_fraction (the same for every seed)"`
	SrcTokenizer  string  `yaml:"src_tokenizer" doc:"char or word"`
	TgtTokenizer  string  `yaml:"tgt_tokenizer" doc:"char or word"`
	ValidFraction float64 `yaml:"valid_fraction" doc:"fraction of the distinct sources held out for validation (unless valid_path)"`
	TestFraction  float64 `yaml:"test_fraction" doc:"fraction of the distinct sources held out for test (unless test_path)"`
	MinCount      int     `yaml:"min_count" doc:"training tokens seen fewer times become <unk>" range:"[1,1000000000]"`
	MaxVocab      int     `yaml:"max_vocab" doc:"largest vocabulary of each side, reserved ids included (0: no limit)" range:"[0,10000000]"`
}

func defaultPairsParams() *PairsParams {
	return &PairsParams{SrcTokenizer: "word", TgtTokenizer: "word", ValidFraction: 0.05, TestFraction: 0.1, MinCount: 1}
}

// Validate checks the keys; the files themselves are read by the factory.
func (p *PairsParams) Validate() error {
	switch {
	case p.Path != "" && (p.SrcPath != "" || p.TgtPath != ""):
		return registry.Invalid("path", "give either path or src_path and tgt_path, not both")
	case p.Path == "" && p.SrcPath == "" && p.TgtPath == "":
		return registry.Invalid("path", "required: a TSV file of source<TAB>target lines (or src_path and tgt_path)")
	case p.Path == "" && p.SrcPath == "":
		return registry.Invalid("src_path", "required with tgt_path")
	case p.Path == "" && p.TgtPath == "":
		return registry.Invalid("tgt_path", "required with src_path")
	}
	if err := validateTokenizer("src_tokenizer", p.SrcTokenizer); err != nil {
		return err
	}
	if err := validateTokenizer("tgt_tokenizer", p.TgtTokenizer); err != nil {
		return err
	}
	valid, test := p.ValidFraction, p.TestFraction
	if p.ValidPath != "" {
		valid = 0
	}
	if p.TestPath != "" {
		test = 0
	}
	if err := validateFractions(valid, test); err != nil {
		return err
	}
	return validateVocab(p.MinCount, p.MaxVocab)
}

// Files returns the files the task reads, by parameter key.
func (p *PairsParams) Files() map[string]string {
	return nonEmpty(map[string]string{"path": p.Path, "src_path": p.SrcPath, "tgt_path": p.TgtPath,
		"valid_path": p.ValidPath, "test_path": p.TestPath})
}

var _ HeldOutFiles = (*PairsParams)(nil)

// HeldOut returns the keys of the training files (path, or src_path and
// tgt_path) and of the held-out split files (valid_path, test_path) set.
func (p *PairsParams) HeldOut() (train, heldOut []string) {
	f := p.Files()
	for _, k := range []string{"path", "src_path", "tgt_path"} {
		if f[k] != "" {
			train = append(train, k)
		}
	}
	for _, k := range []string{"valid_path", "test_path"} {
		if f[k] != "" {
			heldOut = append(heldOut, k)
		}
	}
	return train, heldOut
}

var _ FileBytes = (*PairsParams)(nil)

// FileBytes returns 2 and 16: a pairs file's bytes and its text take
// twice its size, and its dataset took 6 to 16 bytes a file byte in the
// costly common shapes (TestBudgetCoversAllocations).
func (p *PairsParams) FileBytes() (least, most int64) { return 2, 16 }

// nonEmpty drops the keys whose path is "".
func nonEmpty(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

func init() {
	Registry.Register(Entry{
		Name:   "pairs",
		Doc:    "source/target pairs from a TSV file or two aligned files, char or word tokens per side",
		Params: defaultPairsParams(),
		New:    newPairs,
	})
}

// textPair is one pair of a file, with where it came from.
// The lines are kept as text (substrings of the file) and tokenized when
// they are counted and encoded, never held as a []string of tokens.
type textPair struct {
	src string // the source line
	tgt string // the target line as written, also the reference of scores
	key string // equal for two pairs exactly when their source tokens are (sameTokens)
}

func newPairs(params any, opt Options) (*Dataset, error) {
	p := paramsOf(params, defaultPairsParams())
	if err := p.Validate(); err != nil {
		return nil, err
	}
	srcTok, _ := TokenizerByName(p.SrcTokenizer)
	tgtTok, _ := TokenizerByName(p.TgtTokenizer)
	var all []textPair
	var err error
	if p.Path != "" {
		all, err = readTSV(p.Path, opt, srcTok, tgtTok)
	} else {
		all, err = readAligned(p.SrcPath, p.TgtPath, opt, srcTok, tgtTok)
	}
	// Every file's bad lines are listed at once: those of valid_path and
	// test_path too when the main file has some.
	bad := &problems{task: "pairs"}
	var de *DataError
	switch {
	case errors.As(err, &de):
		bad.merge(de)
	case err != nil:
		return nil, err
	}
	var fixed [3][]textPair
	for s, path := range [3]string{"", p.ValidPath, p.TestPath} {
		if path != "" {
			fixed[s], err = readTSV(path, opt, srcTok, tgtTok)
			switch {
			case errors.As(err, &de):
				bad.merge(de)
			case err != nil && len(bad.list) > 0: // listed after the main file's lines
				bad.addf("%s", strings.TrimPrefix(err.Error(), "pairs: "))
			case err != nil:
				return nil, err
			}
		}
	}
	if err := bad.err(); err != nil {
		return nil, err
	}

	// Split the distinct sources, in order of first appearance, shuffled.
	b := opt.budget
	var keys []string
	seen := make(map[string]bool)
	for _, tp := range all {
		if !seen[tp.key] {
			if !b.take(2 * distinctBytes) { // seen, keys, splitOf
				return nil, b.err("pairs", p.mainPath())
			}
			seen[tp.key] = true
			keys = append(keys, tp.key)
		}
	}
	r := newRand(opt.Seed, "pairs")
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	// A held-out fraction must hold out at least one source as asked, not
	// by rounding up: with too few sources the splits are not the
	// fractions asked for.
	for _, h := range []struct {
		key  string
		f    float64
		path string
	}{{"valid_fraction", p.ValidFraction, p.ValidPath}, {"test_fraction", p.TestFraction, p.TestPath}} {
		if h.path == "" && h.f > 0 && h.f*float64(len(keys)) < 1 {
			return nil, fmt.Errorf("pairs: %s: only %d distinct sources, too few for %s %g (less than one source): use at least %d, or set %s to 0",
				p.mainPath(), len(keys), h.key, h.f, int(math.Ceil(1/h.f-1e-9)), h.key)
		}
	}
	var nValid, nTest int
	if p.TestPath == "" {
		nTest = fractionCount(p.TestFraction, len(keys))
	}
	if p.ValidPath == "" {
		nValid = fractionCount(p.ValidFraction, len(keys))
	}
	if nValid+nTest >= len(keys) {
		return nil, fmt.Errorf("pairs: %s: only %d distinct sources, too few to hold out %d for test and %d for validation", p.mainPath(), len(keys), nTest, nValid)
	}
	splitOf := make(map[string]int, len(keys))
	for i, k := range keys {
		switch {
		case i < nTest:
			splitOf[k] = splitTest
		case i < nTest+nValid:
			splitOf[k] = splitValid
		default:
			splitOf[k] = splitTrain
		}
	}
	if !b.take(pairBytes * len(all)) { // the splits
		return nil, b.err("pairs", p.mainPath())
	}
	var sizes [3]int
	for _, tp := range all {
		sizes[splitOf[tp.key]]++
	}
	var splits [3][]textPair
	for s, n := range sizes {
		splits[s] = make([]textPair, 0, n)
	}
	for _, tp := range all {
		s := splitOf[tp.key]
		splits[s] = append(splits[s], tp)
	}
	for s := range fixed {
		if fixed[s] != nil {
			splits[s] = fixed[s]
		}
	}

	srcCounts, tgtCounts := newTokenCounts(b), newTokenCounts(b)
	for _, tp := range splits[splitTrain] {
		eachToken(srcTok, tp.src, srcCounts.add)
		eachToken(tgtTok, tp.tgt, tgtCounts.add)
		if b.over() {
			return nil, b.err("pairs", p.mainPath())
		}
	}
	sv := vocabOfCounts(srcCounts.n, p.MinCount, p.MaxVocab)
	tv := vocabOfCounts(tgtCounts.n, p.MinCount, p.MaxVocab)
	if err := checkVocab(sv, srcCounts.n, p.MinCount, "pairs", p.mainPath(), "source"); err != nil {
		return nil, err
	}
	if err := checkVocab(tv, tgtCounts.n, p.MinCount, "pairs", p.mainPath(), "target"); err != nil {
		return nil, err
	}
	d := &Dataset{Name: "pairs", SrcVocab: sv, TgtVocab: tv, SrcTok: srcTok, TgtTok: tgtTok}
	for s, dst := range [3]*Examples{&d.Train, &d.Valid, &d.Test} {
		if !b.take(exampleBytes * len(splits[s])) {
			return nil, b.err("pairs", p.mainPath())
		}
		list := make([]Example, 0, len(splits[s]))
		for _, tp := range splits[s] {
			ex := Example{Src: sv.encodeText(srcTok, tp.src), Tgt: tv.encodeText(tgtTok, tp.tgt), Ref: tp.tgt}
			if !b.take(idBytes * (cap(ex.Src) + cap(ex.Tgt))) {
				return nil, b.err("pairs", p.mainPath())
			}
			list = append(list, ex)
		}
		*dst = ListOf(list)
	}
	return d, nil
}

func (p *PairsParams) mainPath() string {
	if p.Path != "" {
		return p.Path
	}
	return p.SrcPath
}

// readTSV reads source<TAB>target lines. Every problem with a line is
// reported (a *DataError), not only the first.
func readTSV(path string, opt Options, srcTok, tgtTok Tokenizer) ([]textPair, error) {
	pr := &problems{task: "pairs"}
	lines, bad, err := readLines("pairs", path, opt)
	if err != nil {
		return nil, err
	}
	out := make([]textPair, 0, nonEmptyLines(lines))
	if !opt.budget.take(pairBytes * cap(out)) {
		return nil, opt.budget.err("pairs", path)
	}
	for i, line := range lines {
		if msg, ok := bad[i]; ok {
			pr.addf("%s:%d: %s", path, i+1, msg)
			continue
		}
		if line == "" {
			continue
		}
		src, tgt, ok := strings.Cut(line, "\t")
		switch {
		case !ok && strings.TrimSpace(line) == "":
			pr.addf("%s:%d: a line of only spaces (want source<TAB>target; an empty line is skipped)", path, i+1)
			continue
		case !ok:
			pr.addf("%s:%d: no tab between source and target", path, i+1)
			continue
		}
		if strings.Contains(tgt, "\t") {
			pr.addf("%s:%d: more than one tab (want source<TAB>target)", path, i+1)
			continue
		}
		if i == 0 && headerLike(src, tgt) {
			pr.addf("%s:1: %s<TAB>%s %s", path, src, tgt, headerProblem)
			continue
		}
		tp, err := makePair(src, tgt, srcTok, tgtTok)
		if err != nil {
			pr.addf("%s:%d: %v", path, i+1, err)
			continue
		}
		out = append(out, tp)
	}
	if err := pr.err(); err != nil {
		return nil, err
	}
	if len(out) == 0 && len(bad) == 0 {
		return nil, fmt.Errorf("pairs: %s: no pairs, only empty lines", path)
	}
	return out, nil
}

// readAligned reads two files aligned line by line. Every problem with a
// line is reported (a *DataError), not only the first.
func readAligned(srcPath, tgtPath string, opt Options, srcTok, tgtTok Tokenizer) ([]textPair, error) {
	pr := &problems{task: "pairs"}
	sl, sbad, err := readLines("pairs", srcPath, opt)
	if err != nil {
		return nil, err
	}
	tl, tbad, err := readLines("pairs", tgtPath, opt)
	if err != nil {
		return nil, err
	}
	if len(sl) != len(tl) {
		return nil, fmt.Errorf("pairs: %s has %d lines but %s has %d: the files must be aligned line by line", srcPath, len(sl), tgtPath, len(tl))
	}
	out := make([]textPair, 0, nonEmptyLines(sl))
	if !opt.budget.take(pairBytes * cap(out)) {
		return nil, opt.budget.err("pairs", srcPath)
	}
	for i := range sl {
		msg, sb := sbad[i]
		if sb {
			pr.addf("%s:%d: %s", srcPath, i+1, msg)
		}
		if msg, tb := tbad[i]; tb {
			pr.addf("%s:%d: %s", tgtPath, i+1, msg)
			continue
		}
		switch {
		case sb:
			continue
		case sl[i] == "" && tl[i] == "":
			continue
		case sl[i] == "":
			pr.addf("%s:%d: empty line, but %s:%d is not: the files must be aligned line by line", srcPath, i+1, tgtPath, i+1)
			continue
		case tl[i] == "":
			pr.addf("%s:%d: empty line, but %s:%d is not: the files must be aligned line by line", tgtPath, i+1, srcPath, i+1)
			continue
		}
		if i == 0 && headerLike(sl[i], tl[i]) {
			pr.addf("%s:1 and %s:1: %s and %s %s", srcPath, tgtPath, sl[i], tl[i], headerProblem)
			continue
		}
		tp, err := makePair(sl[i], tl[i], srcTok, tgtTok)
		if err != nil {
			path := srcPath
			var re *reservedError
			if errors.Is(err, errEmptyTarget) || errors.As(err, &re) && re.side == "target" {
				path = tgtPath
			}
			pr.addf("%s:%d: %v", path, i+1, err)
			continue
		}
		out = append(out, tp)
	}
	if err := pr.err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pairs: %s: no pairs, only empty lines", srcPath)
	}
	return out, nil
}

// headerLike reports whether a first line's source and target are a
// header's names of the two columns: source and target, src and tgt, or
// input and output, in any case (see PairsParams). The same word twice
// (input<TAB>input) is a pair, as a copy task's first line may be.
func headerLike(src, tgt string) bool {
	norm := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	switch norm(src) + "\t" + norm(tgt) {
	case "source\ttarget", "src\ttgt", "input\toutput":
		return true
	}
	return false
}

// headerProblem is what is wrong with a first line that is headerLike.
const headerProblem = "is a header (column names), not a pair: delete the line (pairs files have no header: every line is a pair)"

var (
	errEmptySource = errors.New("empty source")
	errEmptyTarget = errors.New("empty target")
)

func makePair(src, tgt string, srcTok, tgtTok Tokenizer) (textPair, error) {
	if countTokens(srcTok, src) == 0 {
		return textPair{}, errEmptySource
	}
	if countTokens(tgtTok, tgt) == 0 {
		return textPair{}, errEmptyTarget
	}
	if t := reservedIn(srcTok, src); t != "" {
		return textPair{}, &reservedError{tok: t, side: "source"}
	}
	if t := reservedIn(tgtTok, tgt); t != "" {
		return textPair{}, &reservedError{tok: t, side: "target"}
	}
	return textPair{src: src, tgt: tgt, key: sameTokens(srcTok, src)}, nil
}

// nonEmptyLines returns how many of lines are not empty.
func nonEmptyLines(lines []string) int {
	n := 0
	for _, l := range lines {
		if l != "" {
			n++
		}
	}
	return n
}

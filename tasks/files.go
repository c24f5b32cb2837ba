package tasks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"
	"unsafe"

	"github.com/attnlab/attnlab/internal/safein"
	"github.com/attnlab/attnlab/registry"
)

// MaxFileSize bounds the size of a data file a task reads (1 GiB).
const MaxFileSize = 1 << 30

// Fingerprint identifies the contents of a data file: the first 16 hex
// digits of the SHA-256 of its bytes, its size in bytes and its number of
// lines (a final newline does not start another line). Experiments record
// the fingerprint of every file a task reads in the run's configuration
// (its data block), so a changed file makes a new run.
type Fingerprint struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Lines  int    `json:"lines"`
}

// FileParams is implemented by the parameters of tasks that read files:
// Files returns the paths they read, as written (relative to the experiment
// file), by parameter key, leaving out the keys that are not set.
type FileParams interface {
	Files() map[string]string
}

// HeldOutFiles is implemented by the parameters of file tasks whose
// held-out splits may come from files of their own (pairs' valid_path and
// test_path): HeldOut returns, among the keys of Files, those of the
// training data and those of held-out splits, leaving out keys not set. A
// held-out file with the contents of a training file holds training
// examples only, which experiments lints before any run.
type HeldOutFiles interface {
	HeldOut() (train, heldOut []string)
}

// FingerprintFile reads the file at path (resolved with opt.Path) as the
// task named task would, and returns its fingerprint. Errors are those of
// the task's own reading, one line naming the file as written.
//
// A file larger than opt.Memory over the least bytes a byte of the
// task's files takes (FileBytes: 1 for text, whose string shares the
// bytes it was read into; 2 for pairs, whose bytes and text alone take
// twice its size; 1 for a task that does not say) is refused by its size,
// before it is read.
func FingerprintFile(task, path string, opt Options) (Fingerprint, error) {
	return FingerprintFileContext(context.Background(), task, path, opt)
}

// FingerprintFileContext is FingerprintFile that stops once ctx is done
// (Ctrl-C while plan or run checks the data of a corpus of a gigabyte): it
// asks ctx at least every safein.ReadChunk bytes it reads or hashes, and
// returns an error that names the file and wraps ctx.Err()
// ("text: corpus.txt: context canceled"), keeping nothing it read.
func FingerprintFileContext(ctx context.Context, task, path string, opt Options) (Fingerprint, error) {
	if lim := opt.Memory.Bytes; lim > 0 {
		least := int64(1)
		if e, err := Registry.Lookup(task); err == nil {
			if fb, ok := e.Params.(FileBytes); ok {
				least, _ = fb.FileBytes()
			}
		}
		if fi, err := os.Stat(opt.Path(path)); err == nil && fi.Mode().IsRegular() && least*fi.Size() > lim {
			return Fingerprint{}, (&budget{limit: opt.Memory}).err(task, path)
		}
	}
	b, err := readFileContext(ctx, task, path, opt)
	if err != nil {
		return Fingerprint{}, err
	}
	fp, err := fingerprintContext(ctx, b)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("%s: %s: %w", task, path, err)
	}
	memoBytes.put(bytesKey(opt.Path(path), fp), b) // for the CheckData that follows
	return fp, nil
}

func fingerprintOf(b []byte) Fingerprint {
	fp, _ := fingerprintContext(context.Background(), b) // never done: no error
	return fp
}

// fingerprintContext returns the fingerprint of b, hashing and counting
// safein.ReadChunk bytes at a time and asking ctx before each: it returns
// ctx.Err() once ctx is done.
func fingerprintContext(ctx context.Context, b []byte) (Fingerprint, error) {
	h := sha256.New()
	lines := 0
	for rest := b; len(rest) > 0; {
		if err := ctx.Err(); err != nil {
			return Fingerprint{}, err
		}
		n := min(len(rest), safein.ReadChunk)
		h.Write(rest[:n])
		lines += bytes.Count(rest[:n], []byte("\n"))
		rest = rest[n:]
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		lines++
	}
	return Fingerprint{SHA256: hex.EncodeToString(h.Sum(nil))[:16], Size: int64(len(b)), Lines: lines}, nil
}

// FileBytes is implemented by the parameters of a file task that bound
// what a byte of its files takes in a run: FileBytes returns the least
// (FingerprintFile refuses by its size a file whose least is above the
// memory limit) and the most in the common shapes (a run's memory
// estimate when the dataset was not measured: a configuration read back
// from the run database by a worker).
type FileBytes interface {
	FileBytes() (least, most int64)
}

// DataCheck is what CheckData found of a task's data.
type DataCheck struct {
	// Problems are every problem with the data, each one line that names
	// the data file (and the line, where there is one), without the task's
	// name; nil when there is none. When Key is set, the one problem is
	// that of the task's parameter Key with this data instead (min_count
	// leaving an empty vocabulary), without the key.
	Problems []string
	Key      string
	// Src and Tgt are the longest source and target of the data
	// (Dataset.Longest), when it has no problems.
	Src, Tgt int
	// Bytes is the memory the dataset took to build (Dataset.Bytes), when
	// it has no problems.
	Bytes int64
	// Vocab is the size of the larger of its vocabularies, reserved ids
	// included, when it has no problems.
	Vocab int
	// Sizes are the dataset's splits and vocabularies, when it has no
	// problems: those of the seed in the Options (each seed draws its own
	// split of a pairs file).
	Sizes DataSizes
}

// DataSizes are the sizes of a dataset: its splits' examples and its
// vocabularies, reserved ids included (an LM's source vocabulary is its
// target's).
type DataSizes struct {
	LM                 bool // the examples are windows of a token stream
	Train, Valid, Test int
	SrcVocab, TgtVocab int
	// TestTokens is the length of a language-modelling dataset's test
	// stream (Dataset.TestTokens), which bounds the contexts its test loss
	// can be measured at (eval.context): at most TestTokens − 1 tokens. 0
	// for other datasets.
	TestTokens int
}

// CheckData builds the dataset of a task that reads files (its parameters
// are FileParams) as a run would, to find every problem with its data
// before any run. Without problems it also returns the longest source and
// target of the data, which the task's parameters cannot declare, and the
// memory the dataset takes, so that a model too short for them, or a run
// that would need too much memory, is refused before it starts; a dataset
// that would take more than opt.Memory is a problem, found without
// building more of it. A task that reads no files returns the zero
// DataCheck at once (its parameters' Validate checks what can be checked
// without generating data). Given the files' fingerprints
// (opt.Data) and the seed of a run, it reads the bytes FingerprintFile
// just read instead of the files, and keeps the dataset for the Build of
// that run (see memo.go): in one process, each file is read once. The
// parameters of a task that can measure its data without building it (a
// measurer: text) are measured instead, and the files' bytes stay for the
// Build.
func CheckData(name string, params map[string]any, opt Options) DataCheck {
	e, err := Registry.Lookup(name)
	if err != nil {
		return DataCheck{} // reported where the task was resolved
	}
	p, err := e.Decode(Registry.Kind(), params)
	if err != nil {
		return DataCheck{}
	}
	if _, ok := p.(FileParams); !ok {
		return DataCheck{}
	}
	var dc DataCheck
	if m, ok := p.(measurer); ok {
		mopt := fileOptions(p, opt)
		mopt.measure = true
		dc, err = m.measure(mopt)
	} else {
		var d *Dataset
		if d, err = buildIn(Registry, name, params, opt); err == nil {
			if key := datasetKey(name, params, opt); key != "" {
				memoData.put(key, d)
			}
			dc = checkOf(d)
		}
	}
	var de *DataError
	var pe *registry.ParamError
	switch {
	case err == nil:
		return dc
	case errors.As(err, &pe):
		return DataCheck{Problems: []string{pe.Msg}, Key: pe.Key}
	case errors.As(err, &de):
		out := slices.Clone(de.Problems)
		if de.More > 0 {
			out = append(out, fmt.Sprintf("and %d more problems like these", de.More))
		}
		return DataCheck{Problems: out}
	}
	return DataCheck{Problems: []string{strings.TrimPrefix(err.Error(), name+": ")}}
}

// checkOf returns what CheckData reports of a dataset without problems.
func checkOf(d *Dataset) DataCheck {
	src, tgt := d.Longest()
	return DataCheck{Src: src, Tgt: tgt, Bytes: d.Bytes, Vocab: max(d.SrcVocab.Len(), d.TgtVocab.Len()),
		Sizes: DataSizes{LM: d.LM, Train: d.Train.Len(), Valid: d.Valid.Len(), Test: d.Test.Len(), SrcVocab: d.SrcVocab.Len(), TgtVocab: d.TgtVocab.Len(),
			TestTokens: len(d.TestTokens)}}
}

// measurer is implemented by the parameters of a file task that can find
// what CheckData reports of its data without building the dataset: the
// DataCheck of the dataset its factory would build, Bytes included
// (charged to opt's budget as the build would), or the error it would
// return. The bytes of its files stay in the memo for the run's Build.
type measurer interface {
	measure(opt Options) (DataCheck, error)
}

// readFile returns the bytes of the data file at path (resolved with
// opt.Path): a regular file of at most MaxFileSize bytes (a FIFO or a
// device is refused without blocking). When opt carries the file's
// recorded fingerprint, contents that differ are an error; the bytes
// FingerprintFile read with that fingerprint are taken instead of reading
// the file again. A file whose first line shows it is not UTF-8 text
// (checkHead: UTF-16, NUL bytes) is an error.
func readFile(task, path string, opt Options) ([]byte, error) {
	return readFileContext(context.Background(), task, path, opt)
}

// readFileContext is readFile that stops reading once ctx is done
// (safein.ReadFileContext), with an error that names the file and wraps
// ctx.Err().
func readFileContext(ctx context.Context, task, path string, opt Options) ([]byte, error) {
	full := opt.Path(path)
	if want, ok := opt.expect[path]; ok {
		get := memoBytes.take
		if opt.measure {
			get = memoBytes.get // left for the run's Build
		}
		if b, ok := get(bytesKey(full, want)); ok {
			return b, nil // what FingerprintFile read, with that fingerprint
		}
	}
	if head := readHead(full); head != nil {
		if err := checkHead(task, path, head); err != nil {
			return nil, err // without reading the whole file
		}
	}
	fileReads.Add(1)
	b, err := safein.ReadFileContext(ctx, full, MaxFileSize)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s: %s: %w", task, path, err) // ctx is done
		}
		if errors.Is(err, fs.ErrNotExist) {
			abs, aerr := filepath.Abs(full)
			if aerr != nil {
				abs = full
			}
			return nil, fmt.Errorf("%s: %s: no such file (looked for %s)", task, path, abs)
		}
		return nil, fmt.Errorf("%s: %s: %v", task, path, err)
	}
	if want, ok := opt.expect[path]; ok {
		if got := fingerprintOf(b); got != want {
			return nil, fmt.Errorf("%s: %s: changed since the experiment was loaded (sha256 %s, %d lines; now %s, %d lines): run it again to make a new run",
				task, path, want.SHA256, want.Lines, got.SHA256, got.Lines)
		}
	}
	if err := checkHead(task, path, b); err != nil {
		return nil, err
	}
	return b, nil
}

// readHead returns the first MaxLineBytes bytes of the regular file at
// full, or nil if it is not one or cannot be read (safein.ReadFile then
// says why). It never blocks on a FIFO.
func readHead(full string) []byte {
	f, err := os.OpenFile(full, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	b := make([]byte, MaxLineBytes)
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil
	}
	return b[:n]
}

// checkHead refuses, from its first line alone, a data file that is not
// UTF-8 text: one that starts with a UTF-16 byte-order mark or has NUL
// bytes in its first line (UTF-16 without a mark, or binary data), so that
// such a file is refused before it is split, tokenized or fingerprinted
// (readFile checks the file's head before it reads the rest).
// NUL bytes further on are refused line by line (readLines, readText).
func checkHead(task, path string, b []byte) error {
	if bytes.HasPrefix(b, []byte("\xff\xfe")) || bytes.HasPrefix(b, []byte("\xfe\xff")) {
		return fmt.Errorf("%s: %s: looks like UTF-16 (it starts with a UTF-16 byte-order mark): convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)", task, path)
	}
	head := b[:min(len(b), MaxLineBytes)]
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	nuls := bytes.Count(head, []byte{0})
	switch {
	case nuls == 0:
		return nil
	case nuls < len(head):
		return fmt.Errorf("%s: %s: has NUL bytes in its first line: UTF-16 or binary, not UTF-8 text (iconv -f UTF-16 -t UTF-8 converts UTF-16)", task, path)
	}
	return fmt.Errorf("%s: %s:1: %s", task, path, nulByte)
}

// nulByte is the problem of a line with a NUL byte, which is valid UTF-8
// but no text: a binary file, or UTF-16.
const nulByte = "NUL byte (a UTF-8 text file has none)"

// MaxLineBytes bounds a line of a line-based data file (a pairs TSV or
// one of its aligned files): 64 KiB, far above any sentence, far below a
// line that would need gigabytes as a sequence.
const MaxLineBytes = 64 << 10

// MaxLineProblems bounds the problems a DataError lists.
const MaxLineProblems = 20

// DataError is every problem found in a task's data files, each one line
// that names the file as written and, where there is one, the line
// ("pairs.tsv:4: no tab between source and target"), in file and line
// order, at most MaxLineProblems of them (More counts the others). A
// task's dataset is built only from files without problems.
type DataError struct {
	Task     string
	Problems []string
	More     int
}

// Error is the first problem, prefixed by the task, with a count of the
// others: one line.
func (e *DataError) Error() string {
	s := e.Task + ": " + e.Problems[0]
	if n := len(e.Problems) - 1 + e.More; n > 0 {
		s += fmt.Sprintf(" (and %d more: attnlab plan lists them)", n)
	}
	return s
}

// problems collects the line problems of data files for a DataError.
type problems struct {
	task string
	list []string
	more int
}

func (p *problems) addf(format string, args ...any) {
	if len(p.list) >= MaxLineProblems {
		p.more++
		return
	}
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

// merge adds the problems of e.
func (p *problems) merge(e *DataError) {
	for _, l := range e.Problems {
		p.addf("%s", l)
	}
	p.more += e.More
}

// err returns the DataError of the problems, or nil if there is none.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &DataError{Task: p.task, Problems: p.list, More: p.more}
}

// readLines returns the lines of the UTF-8 text file at path (as
// splitLines cuts them, without a leading byte-order mark) and, by line
// index, what is wrong with each line that is not valid UTF-8, has a NUL
// byte or is longer
// than MaxLineBytes (those lines are returned empty; the text of an
// over-long line is never copied out of the file's bytes). A file that
// cannot be read or is empty is an error.
func readLines(task, path string, opt Options) (lines []string, bad map[int]string, err error) {
	b, err := readFile(task, path, opt)
	if err != nil {
		return nil, nil, err
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%s: %s: empty file", task, path)
	}
	if crLineEnds(b) {
		return nil, nil, fmt.Errorf(`%s: %s: looks like it has CR line endings (classic Mac OS), which end no line here: convert them to LF (tr '\r' '\n')`, task, path)
	}
	// The file's bytes and text, a string header per line. The text leaves
	// out the lines over MaxLineBytes, refused whatever they hold.
	long, kept := longLines(b)
	if !opt.budget.take(len(b) + kept + lineBytes*(1+bytes.Count(b, []byte("\n")))) {
		return nil, nil, opt.budget.err(task, path)
	}
	lines = splitLines(textWithout(b, long, kept))
	// A long last line without a final "\n" leaves nothing in the text
	// after the line end before it, which splitLines drops: put it back.
	for i := range long {
		for len(lines) <= i {
			lines = append(lines, "")
		}
	}
	for i, l := range lines {
		var msg string
		n, isLong := long[i]
		switch {
		case isLong:
			msg = fmt.Sprintf("line of %d bytes, longer than %s (the limit)", n, safein.Size(MaxLineBytes))
		case !utf8.ValidString(l):
			msg = "invalid UTF-8"
		case strings.IndexByte(l, 0) >= 0:
			msg = nulByte
		default:
			continue
		}
		if !opt.budget.take(badLineBytes) { // a file of millions of bad lines
			return nil, nil, opt.budget.err(task, path)
		}
		if bad == nil {
			bad = map[int]string{}
		}
		bad[i] = msg
		lines[i] = ""
	}
	return lines, bad, nil
}

// longLines returns the length of each line of b (as splitLines cuts
// them) that is longer than MaxLineBytes, by line index (nil: none), and
// the bytes of b that the other lines and their line ends take.
func longLines(b []byte) (long map[int]int, kept int) {
	kept = len(b)
	for i, rest := 0, b; len(rest) > 0; i++ {
		line := rest
		if n := bytes.IndexByte(rest, '\n'); n >= 0 {
			line, rest = rest[:n], rest[n+1:]
		} else {
			rest = nil
		}
		if n := len(bytes.TrimSuffix(line, []byte("\r"))); n > MaxLineBytes {
			if long == nil {
				long = map[int]int{}
			}
			long[i] = n
			kept -= len(line)
		}
	}
	return long, kept
}

// textWithout returns b as text with the lines of long (longLines: kept
// bytes in all) left empty, so that a file of one line of a gigabyte is
// not copied whole only to be refused.
func textWithout(b []byte, long map[int]int, kept int) string {
	if len(long) == 0 {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(kept)
	for i, rest := 0, b; len(rest) > 0; i++ {
		line, end := rest, false
		if n := bytes.IndexByte(rest, '\n'); n >= 0 {
			line, rest, end = rest[:n], rest[n+1:], true
		} else {
			rest = nil
		}
		if _, ok := long[i]; !ok {
			sb.Write(line)
		}
		if end {
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// crLineEnds reports whether the lines of b look ended by a lone "\r"
// (classic Mac OS) rather than "\n" or "\r\n": more lone "\r" (not
// followed by "\n") than "\n". A few stray "\r" in a file of lines
// ended by "\n" stay characters of their lines.
func crLineEnds(b []byte) bool {
	lf := bytes.Count(b, []byte("\n"))
	lone := bytes.Count(b, []byte("\r")) - bytes.Count(b, []byte("\r\n"))
	return lone > lf
}

// readText returns the contents of the UTF-8 text file at path (resolved
// with opt.Path), without a leading byte-order mark, sharing the memory
// the file was read into. Every error is one line
// that starts with the task and names the file as the user wrote it (and the
// line, for invalid UTF-8 or a NUL byte).
func readText(task, path string, opt Options) (string, error) {
	b, err := readFile(task, path, opt)
	if err != nil {
		return "", err
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(b) == 0 {
		return "", fmt.Errorf("%s: %s: empty file", task, path)
	}
	if nul := bytes.IndexByte(b, 0); nul >= 0 || !utf8.Valid(b) {
		bad, msg := 0, "invalid UTF-8"
		for bad < len(b) {
			r, n := utf8.DecodeRune(b[bad:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			if r == 0 {
				msg = nulByte
				break
			}
			bad += n
		}
		return "", fmt.Errorf("%s: %s:%d: %s", task, path, 1+bytes.Count(b[:bad], []byte("\n")), msg)
	}
	// The file's bytes, which the text shares.
	if !opt.budget.take(len(b)) {
		return "", opt.budget.err(task, path)
	}
	if opt.measure && bytes.Contains(b, []byte("\r\n")) {
		// b may be the memo's, left for the run's Build: crlfToLF works on
		// a copy, which that Build does not make (not charged).
		b = bytes.Clone(b)
	}
	b = crlfToLF(b)
	// No copy (200 MB for a 200 MB corpus): once crlfToLF is done nothing
	// writes b, read here or given by the memo.
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

// crlfToLF turns the "\r\n" line ends of a file written on Windows into
// "\n" in place, as Python's text mode reads them, so that a corpus does
// not train on "\r" tokens (nearly free predictions before every "\n"
// that would lower its loss) and a prompt, whose "\r" generate strips,
// reads as the training text does. A lone "\r" stays.
func crlfToLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\r\n")) {
		return b
	}
	w := 0
	for i := 0; i < len(b); i++ {
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			continue
		}
		b[w] = b[i]
		w++
	}
	return b[:w]
}

// splitLines returns the lines of s without their "\n" or "\r\n"; a final
// newline does not start another line.
func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// validateFractions checks two split fractions: each in [0, 1), sum < 1.
func validateFractions(valid, test float64) error {
	if !(valid >= 0 && valid < 1) {
		return registry.Invalid("valid_fraction", "must be in [0, 1), got %g", valid)
	}
	if !(test >= 0 && test < 1) {
		return registry.Invalid("test_fraction", "must be in [0, 1), got %g", test)
	}
	if valid+test >= 1 {
		return registry.Invalid("test_fraction", "valid_fraction + test_fraction must be below 1, got %g", valid+test)
	}
	return nil
}

// validateVocab checks the min_count and max_vocab keys.
func validateVocab(minCount, maxVocab int) error {
	if minCount < 1 {
		return registry.Invalid("min_count", "must be at least 1, got %d", minCount)
	}
	if maxVocab != 0 && maxVocab <= len(specials) {
		return registry.Invalid("max_vocab", "must be 0 (no limit) or above the %d reserved ids, got %d", len(specials), maxVocab)
	}
	return nil
}

func validateTokenizer(key, name string) error {
	if _, err := TokenizerByName(name); err != nil {
		return registry.Invalid(key, "unknown tokenizer %q (known: %s)", name, strings.Join(tokenizerNames(), ", "))
	}
	return nil
}

// fractionCount returns round(f·n).
func fractionCount(f float64, n int) int {
	return int(math.Round(f * float64(n)))
}

package experiments

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/attnlab/attnlab/internal/floatlit"
	"github.com/attnlab/attnlab/registry"
)

// source is one configuration layer as written: an experiment file, a base
// it extends, or the --set overrides.
type source struct {
	file string // as shown in errors
	rank int    // 0 for the experiment file, then its bases, then --set
	text []byte
	// lines maps every key path the layer writes (dotted; list items as
	// key[i]) to its line; --set paths map to 0.
	lines map[string]int
	// stamps holds the text of scalars YAML resolves as timestamps, by path,
	// so that they stay strings.
	stamps map[string]string
	// dotted holds the keys written with a dot outside the sweep (train.steps:
	// 3 at the top level), by path, split at their first dot: an unknown
	// key, which says so.
	dotted map[string][2]string
	// literals holds, by path, the text of the numbers that Go would show
	// otherwise than they are written: whole numbers too large for an int
	// (9223372036854775808 is shown 9.223372036854776e+18), so that a
	// message about one shows it as written.
	literals map[string]literal
	// tiny holds, by path, the numbers written with a digit other than 0
	// that are too small for a float64, which YAML reads as 0 without a
	// word (1e-400): a lint, reported by load (tinyNumbers).
	tiny map[string]tinyNumber
	// strTags holds, by path, the scalars written with an explicit !!str
	// tag (steps: !!str 5), and whether quoted too: a message that would
	// say "drop the quotes" of one says to drop the tag (locator.asWritten).
	strTags map[string]bool
	// extends is the node of the layer's top-level extends key, if any.
	extends     *yaml.Node
	extendsLine int
}

// maxNodes bounds the YAML nodes walked per file (aliases included), so that
// an alias bomb costs nothing.
const maxNodes = 100_000

// maxDepth bounds the nesting of YAML collections (through aliases too): an
// experiment needs a handful of levels.
const maxDepth = 100

// tooDeep is the problem of a value nested deeper than maxDepth.
var tooDeep = "nested deeper than " + strconv.Itoa(maxDepth) + " levels (lists in lists or maps in maps): an experiment needs a few"

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// secondDocument returns the line of the next YAML document dec holds
// (after ---) unless it is empty, 0 when there is none: what yaml.Unmarshal
// and a first Decode ignore silently.
func secondDocument(dec *yaml.Decoder) (int, error) {
	var second yaml.Node
	err := dec.Decode(&second)
	switch {
	case errors.Is(err, io.EOF):
		return 0, nil
	case err != nil:
		return 0, err
	case len(second.Content) > 0 && second.Content[0].ShortTag() != "!!null":
		return max(second.Line, 1), nil
	}
	return 0, nil
}

// parseSource checks a file's YAML and records the line of every key. It
// reports syntax errors, an empty file, a top level that is not a mapping,
// keys that are not scalars and duplicate keys.
func parseSource(s *source) Errors {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(s.text))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return Errors{yamlError(s, err)}
	}
	// One document per file: a second one (after ---) would be ignored.
	if line, err := secondDocument(dec); err != nil {
		return Errors{yamlError(s, err)}
	} else if line > 0 {
		return Errors{s.errorf(line, "", "a second YAML document: an experiment file holds one (extends: combines files)")}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].ShortTag() == "!!null") {
		// A file of comments is not empty to the eye: say what it lacks.
		what := "empty " + map[bool]string{true: "base", false: "experiment"}[s.rank > 0] + " file"
		switch {
		case len(doc.Content) > 0 && doc.Content[0].Value != "": // null, ~, Null
			what = "holds only " + doc.Content[0].Value + ", no keys"
		case onlyComments(s.text):
			what = "holds only comments, no keys"
		}
		if s.rank > 0 {
			return Errors{s.errorf(0, "", "%s: write the keys it gives, or drop the extends that names it", what)}
		}
		return Errors{s.errorf(0, "", "%s: write at least name and task", what)}
	}
	root := doc.Content[0]
	for root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		return Errors{s.errorf(root.Line, "", "want a mapping of keys at the top level, got %s", nodeKind(root))}
	}
	w := &walker{src: s, budget: maxNodes}
	s.lines, s.stamps, s.dotted, s.literals, s.tiny, s.strTags = map[string]int{}, map[string]string{}, map[string][2]string{}, map[string]literal{}, map[string]tinyNumber{}, map[string]bool{}
	w.walk(root, "", 0)
	switch {
	case w.deep > 0:
		w.errs = append(w.errs, s.errorf(w.deep, "", "%s", tooDeep))
	case w.budget < 0:
		w.errs = append(w.errs, s.errorf(root.Line, "", "%s", w.tooMany()))
	}
	return w.errs
}

// onlyComments reports whether text, which YAML reads as no value, holds
// comments and nothing else but blank lines and document markers.
func onlyComments(text []byte) bool {
	comment := false
	for line := range bytes.Lines(text) {
		l := bytes.TrimSpace(bytes.TrimLeft(line, " \t\uFEFF"))
		for _, marker := range []string{"---", "..."} {
			if rest, ok := bytes.CutPrefix(l, []byte(marker)); ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t') {
				l = bytes.TrimSpace(rest) // "--- # a note": the comment after the marker
				if len(l) == 0 {
					l = []byte(marker)
				}
			}
		}
		switch {
		case bytes.HasPrefix(l, []byte("#")):
			comment = true
		case len(l) == 0, bytes.Equal(l, []byte("---")), bytes.Equal(l, []byte("...")):
		default:
			return false
		}
	}
	return comment
}

func yamlError(s *source, err error) *ConfigError {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	line, problem := 0, strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		problem = m[2]
	}
	if strings.HasPrefix(problem, "exceeded max depth of ") {
		// The library's own bound, far above ours.
		return s.errorf(line, "", "%s", tooDeep)
	}
	if te == nil && line == 0 {
		if l, msg := badText(s.text); l > 0 {
			return s.errorf(l, "", "%s", msg)
		}
	}
	if te == nil {
		if line, msg, ok := syntaxLine(s.text, line, problem); ok {
			return s.errorf(line, "", "%s", msg)
		}
		if t := tabLine(s.text, line, problem); t > 0 {
			return s.errorf(t, "", "a tab indents this line: YAML indents with spaces")
		}
	}
	if line > 0 {
		return s.errorf(line, "", "%s", problem)
	}
	return s.errorf(0, "", "%s", msg)
}

// badText returns the line of the first character of text that is not
// UTF-8 or that YAML does not allow (a control character), and what it is;
// 0 when there is none. The YAML library says only "invalid leading UTF-8
// octet" or "control characters are not allowed", without a line.
func badText(text []byte) (int, string) {
	line := 1
	if bytes.HasPrefix(text, []byte("\uFEFF")) {
		text = text[3:] // a byte order mark
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return line, fmt.Sprintf("the byte 0x%02x is not UTF-8 text: an experiment file is UTF-8", text[i])
		case r == '\n':
			line++
		case r == '\r':
			if i+1 >= len(text) || text[i+1] != '\n' {
				line++
			}
		case r == 0x85 || r == 0x2028 || r == 0x2029: // NEL, LS, PS
			line++
		case r == '\t':
		case r < 0x20 || r >= 0x7f && r < 0xa0 || r >= 0xd800 && r <= 0xdfff || r == 0xfffe || r == 0xffff || r == 0xfeff:
			return line, fmt.Sprintf("the control character %U is not allowed in YAML", r)
		}
		i += size
	}
	return 0, ""
}

// tabLine returns the line of the tab behind the YAML library's scanner
// error problem on line (from 1), 0 when a tab is not its cause. A tab
// where a token should start is on the line reported; a tab in the
// indentation of a plain or block scalar's next lines is reported on the
// line where the scalar starts, so the first line from there indented
// with a tab is the one.
func tabLine(text []byte, line int, problem string) int {
	starts, breaks := lineStarts(text)
	indentedByTab := func(l int) bool {
		if l < 1 || l > len(starts) {
			return false
		}
		rest := bytes.TrimLeft(text[starts[l-1]:breaks[l-1]], " \t")
		indent := text[starts[l-1] : breaks[l-1]-len(rest)]
		return len(rest) > 0 && bytes.IndexByte(indent, '\t') >= 0
	}
	switch problem {
	case "found character that cannot start any token":
		if indentedByTab(line) {
			return line
		}
	case "found a tab character that violates indentation", "found a tab character where an indentation space is expected":
		for l := max(line, 1); l <= len(starts); l++ {
			if indentedByTab(l) {
				return l
			}
		}
	}
	return 0
}

// parserProblems are the problems the YAML library's parser (not its
// scanner) reports, each with the collection whose context it gives ("" when
// the context is the offending node itself). The library numbers the lines
// of these from 0 (its scanner's from 1), and gives the line where the
// enclosing collection starts, not the line of the offending token; only
// when the collection starts on the first line does it give the token's.
var parserProblems = map[string]string{
	"did not find expected node content":     "",
	"did not find expected ',' or '}'":       "flow mapping",
	"did not find expected ',' or ']'":       "flow sequence",
	"did not find expected key":              "block mapping",
	"did not find expected '-' indicator":    "block sequence",
	"did not find expected <document start>": "",
	"found undefined tag handle":             "",
}

// syntaxLine finds the line of a YAML parser error, given the line (0 for
// none) and problem of the library's message about text. For a problem
// inside a collection, the library reports only where the collection
// starts; syntaxLine parses text again from that line on, so that the
// collection starts on the first line and the library reports the
// offending token's line, and names the collection's line in the message
// when it differs. When the collection's line means something else on its
// own (it lies inside a flow collection opened above it), the lines from
// there down to it are joined into one, as a flow collection reads them,
// up to maxJoin lines; failing that (a comment in between), the line
// reported is the collection's. ok is false for other errors (scanner
// errors, whose line is right).
func syntaxLine(text []byte, line int, problem string) (int, string, bool) {
	coll, ok := parserProblems[problem]
	if !ok {
		return 0, "", false
	}
	if coll == "" {
		if start, msg, ok := unclosedAtEnd(text, line, problem); ok {
			return start, msg, true
		}
		return line + 1, problem, true
	}
	// The collection starts either on the line after the one reported or,
	// when the library reports the token's line, on the first line.
	starts := []int{1}
	if line > 0 {
		starts = append(starts, line+1)
	}
	lines, breaks := lineStarts(text)
	for _, start := range starts {
		if start > len(lines) {
			continue
		}
		for first := start; first >= max(1, start-maxJoin); first-- {
			cut := slices.Clone(text[lines[first-1]:])
			for k := first; k < start; k++ {
				for i := breaks[k-1]; i < lines[k]; i++ {
					cut[i-lines[first-1]] = ' '
				}
			}
			// The collection starts on cut's first line: with a blank
			// line before it, the library reports it on line 1 (counted
			// from 0).
			if e := yamlProblem(append([]byte("\n"), cut...)); e != "yaml: line 1: "+problem {
				continue
			}
			r, ok := problemLine(yamlProblem(cut), problem)
			if !ok {
				continue
			}
			// A problem at the end of the file moves down with a blank line
			// added (the library puts the end on a line of its own): the
			// collection is not closed, which is a mistake on its own line.
			end1, ok1 := problemLine(yamlProblem(append(cut, '\n')), problem)
			end2, ok2 := problemLine(yamlProblem(append(cut, '\n', '\n')), problem)
			if ok1 && ok2 && end2 == end1+1 {
				return start, unclosed(coll), true
			}
			if r == 0 {
				return start, problem, true
			}
			return start + r, problem + " (in the " + coll + " starting at line " + strconv.Itoa(start) + ")", true
		}
	}
	return line + 1, problem, true
}

// unclosed is the problem of a flow collection (coll) that the file ends
// inside, reported on the line where it opens.
func unclosed(coll string) string {
	bracket := map[string]string{"flow sequence": "[", "flow mapping": "{"}[coll]
	return "a " + bracket + " on this line is never closed: the file ends inside its " + coll
}

// unclosedAtEnd finds the line where the innermost flow collection opens
// when the file ends inside it just after a [, a { or a comma (x: [[ or
// x: {a: [1,): the library then says it found no node, on the line after
// the end of the file. A value added on a line of its own makes the
// library name the collection instead, which syntaxLine locates. ok is
// false for a problem that is not at the end of the file.
func unclosedAtEnd(text []byte, line int, problem string) (int, string, bool) {
	if problem != "did not find expected node content" {
		return 0, "", false
	}
	end1, ok1 := problemLine(yamlProblem(append(slices.Clone(text), '\n')), problem)
	end2, ok2 := problemLine(yamlProblem(append(slices.Clone(text), '\n', '\n')), problem)
	if !ok1 || !ok2 || end2 != end1+1 {
		return 0, "", false
	}
	probe := append(slices.Clone(text), "\n 0"...)
	l, p := 0, strings.TrimPrefix(yamlProblem(probe), "yaml: ")
	if m := yamlLineRE.FindStringSubmatch("yaml: " + p); m != nil {
		l, _ = strconv.Atoi(m[1])
		p = m[2]
	}
	coll := parserProblems[p]
	if coll != "flow sequence" && coll != "flow mapping" {
		return 0, "", false
	}
	if start, msg, ok := syntaxLine(probe, l, p); ok && msg == unclosed(coll) {
		return start, msg, true
	}
	return 0, "", false
}

// problemLine returns the line, counted from 0, of a parser error message
// e about problem whose context starts on line 0 (the library then gives
// the problem's line, and none for line 0); ok is false for another error.
func problemLine(e, problem string) (int, bool) {
	if e == "yaml: "+problem {
		return 0, true
	}
	if m := yamlLineRE.FindStringSubmatch(e); m != nil && m[2] == problem {
		r, err := strconv.Atoi(m[1])
		return r, err == nil
	}
	return 0, false
}

// maxJoin bounds the lines syntaxLine joins.
const maxJoin = 32

// yamlProblem returns the message of the first error decoding the first
// two documents of text (as parseSource does), or "".
func yamlProblem(text []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	for range 2 {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			return ""
		} else if err != nil {
			return err.Error()
		}
	}
	return ""
}

// lineStarts returns the offset of the start of every line of text and
// of the line break that ends it (len(text) for the last line), with the
// YAML library's line breaks: CR LF, CR, LF, NEL, LS and PS.
func lineStarts(text []byte) (starts, breaks []int) {
	starts = []int{0}
	for i := 0; i < len(text); i++ {
		brk := i
		switch {
		case text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n':
			i++
		case text[i] == '\r' || text[i] == '\n':
		case text[i] == 0xC2 && i+1 < len(text) && text[i+1] == 0x85:
			i++
		case text[i] == 0xE2 && i+2 < len(text) && text[i+1] == 0x80 && (text[i+2] == 0xA8 || text[i+2] == 0xA9):
			i += 2
		default:
			continue
		}
		breaks = append(breaks, brk)
		starts = append(starts, i+1)
	}
	return starts, append(breaks, len(text))
}

func (s *source) errorf(line int, key, format string, args ...any) *ConfigError {
	return &ConfigError{File: s.file, Line: line, Key: key, Msg: sprintf(format, args...), rank: s.rank}
}

type walker struct {
	src    *source
	budget int
	deep   int  // the line of the first node nested deeper than maxDepth, 0 for none
	alias  bool // an alias was walked
	errs   Errors
}

func (w *walker) walk(n *yaml.Node, path string, depth int) {
	w.budget--
	if depth > maxDepth && w.deep == 0 {
		w.deep = max(n.Line, 1)
	}
	if w.budget < 0 || w.deep > 0 {
		w.budget = -1
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		w.alias = true
		if n.Alias != nil {
			w.walk(n.Alias, path, depth+1)
		}
	case yaml.ScalarNode:
		if n.ShortTag() == "!!timestamp" {
			w.src.stamps[path] = n.Value
		}
		w.literal(n, path)
		w.tinyNumber(n, path)
		if n.Style&yaml.TaggedStyle != 0 && n.ShortTag() == "!!str" && w.src.strTags != nil {
			w.src.strTags[path] = n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
		}
		if n.ShortTag() == "!!int" && legacyOctal.MatchString(n.Value) {
			// YAML 1.1's octal, which the parser still reads: steps: 020
			// would be 16 steps, and hash as 16.
			sign := ""
			if strings.HasPrefix(n.Value, "-") {
				sign = "-"
			}
			digits := cmp.Or(strings.TrimLeft(strings.TrimLeft(n.Value, "+-"), "0_"), "0")
			w.errs = append(w.errs, w.src.errorf(n.Line, path, "%s is the octal number %s in YAML: write %s%s for the decimal number, %q for text, or %s0o%s for the octal one",
				n.Value, octalValue(n.Value), sign, digits, n.Value, sign, digits))
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			if _, ok := w.src.lines[p]; !ok {
				w.src.lines[p] = item.Line
			}
			w.walk(item, p, depth+1)
		}
	case yaml.MappingNode:
		seen := map[string]int{}
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				w.errs = append(w.errs, w.src.errorf(k.Line, path, "a key must be a plain string, got %s", nodeKind(k)))
				continue
			}
			if k.ShortTag() == "!!merge" {
				merges = append(merges, v)
				continue
			}
			switch {
			case k.ShortTag() == "!!null":
				w.errs = append(w.errs, w.src.errorf(k.Line, path, "a key must be a name, got null (%q): quote it to mean the word", cmp.Or(k.Value, "~")))
				continue
			case k.Value == "":
				w.errs = append(w.errs, w.src.errorf(k.Line, path, "an empty key"))
				continue
			}
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if t := k.ShortTag(); t == "!!int" || t == "!!float" {
				// A key YAML reads as a number is named by the number's
				// text: 010 (octal) would be reported as the key "8".
				var num any
				if k.Decode(&num) == nil && fmt.Sprint(num) != k.Value {
					w.errs = append(w.errs, w.src.errorf(k.Line, p, "YAML reads the key %s as the number %v: write %q to keep it as written", k.Value, num, k.Value))
					continue
				}
			}
			if first, dup := seen[k.Value]; dup {
				if first == k.Line {
					w.errs = append(w.errs, w.src.errorf(k.Line, p, "key given twice on this line"))
				} else {
					w.errs = append(w.errs, w.src.errorf(k.Line, p, "key already defined at line %d", first))
				}
				continue
			}
			seen[k.Value] = k.Line
			w.src.lines[p] = k.Line
			if k.ShortTag() == "!!str" && strings.Contains(k.Value, ".") && !underSweep(path) {
				head, rest, _ := strings.Cut(k.Value, ".")
				w.src.dotted[p] = [2]string{head, rest}
			}
			if path == "" && k.Value == "extends" {
				w.src.extends, w.src.extendsLine = v, k.Line
			}
			w.walk(v, p, depth+1)
		}
		// Keys merged in with <<: lie under the mapping's own keys.
		for _, m := range merges {
			w.walk(m, path, depth+1)
		}
	}
}

// literal is a number as written (text) and as Go formats it (shown).
type literal struct{ text, shown string }

// literal records the text of the number n at path when it is a whole
// number too large for an int (registry.TooLargeInt): YAML reads it as a
// float, which Go shows in powers of ten.
func (w *walker) literal(n *yaml.Node, path string) {
	if t := n.ShortTag(); t != "!!int" && t != "!!float" {
		return
	}
	var v any
	if n.Decode(&v) != nil {
		return
	}
	v = w.src.normalize(v, path)
	if _, big := registry.TooLargeInt(nil, v); !big {
		return
	}
	if shown := sprintf("%v", v); shown != n.Value {
		w.src.literals[path] = literal{text: n.Value, shown: shown}
	}
}

// tinyNumber is a number as written that YAML reads as 0, and its line.
type tinyNumber struct {
	text string
	line int
}

// tinyNumber records the float n at path when it is written with a digit
// other than 0 but reads as 0: strconv.ParseFloat, under YAML, returns 0
// without an error for a number too small for a float64, so weight_decay:
// 1e-400 would be 0.
func (w *walker) tinyNumber(n *yaml.Node, path string) {
	if n.ShortTag() != "!!float" || w.src.tiny == nil {
		return
	}
	// YAML reads a float with its underscores dropped (0_0e-999).
	if _, err := floatlit.Parse(strings.ReplaceAll(n.Value, "_", "")); errors.Is(err, floatlit.ErrUnderflow) {
		w.src.tiny[path] = tinyNumber{text: n.Value, line: n.Line}
		// A key that takes no number says "got float 1e-400", not
		// "got float 0" (locator.asWritten).
		var v any
		if n.Decode(&v) == nil {
			w.src.literals[path] = literal{text: "float " + n.Value, shown: describe(v)}
		}
	}
}

// tooMany is the problem of a document with more than maxNodes values.
func (w *walker) tooMany() string {
	if w.alias {
		return "document too large or too many aliases"
	}
	return "more than " + strconv.Itoa(maxNodes) + " values: an experiment needs far fewer"
}

// underSweep reports whether the key path lies in the sweep section, whose
// keys are dotted configuration paths.
func underSweep(path string) bool {
	return path == "sweep" || strings.HasPrefix(path, "sweep.") || strings.HasPrefix(path, "sweep[")
}

// legacyOctal matches an integer YAML 1.1 reads as octal (a leading 0).
var legacyOctal = regexp.MustCompile(`^[-+]?0[0-7_]+$`)

// octalValue is the value YAML gives a legacyOctal integer.
func octalValue(s string) string {
	v, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 8, 64)
	if err != nil {
		return s
	}
	return strconv.FormatInt(v, 10)
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return "the scalar " + strconv.Quote(shorten(n.Value))
}

// normalize makes a parsed YAML tree JSON-friendly in place: maps with
// non-string keys get string keys, timestamps go back to their text, and
// sized integers become int where they fit.
func (s *source) normalize(v any, path string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = s.normalize(e, joinPath(path, k))
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks := sprintf("%v", k)
			out[ks] = s.normalize(e, joinPath(path, ks))
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = s.normalize(e, path+"["+strconv.Itoa(i)+"]")
		}
		return x
	case time.Time:
		if t, ok := s.stamps[path]; ok {
			return t
		}
		return x.Format(time.RFC3339Nano)
	case int64:
		if i, ok := asInt(x); ok {
			return i
		}
	case uint64:
		if i, ok := asInt(x); ok {
			return i
		}
		return float64(x)
	}
	return v
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

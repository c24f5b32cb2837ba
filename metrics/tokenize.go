package metrics

import (
	"fmt"
	"regexp"
	"strings"
)

// BLEUTokenizers are the names of the tokenizers BLEU accepts, sacreBLEU's
// default first (the keys of eval.bleu.tokenize).
var BLEUTokenizers = []string{"13a", "intl", "char", "none"}

// DefaultBLEUTokenizer is sacreBLEU's default tokenizer, mteval-v13a's.
const DefaultBLEUTokenizer = "13a"

// TokenizeBLEU returns the tokens BLEU counts in line with the named
// tokenizer (see [BLEUTokenizers]), exactly as sacreBLEU 2.5.1 tokenizes a
// segment and then splits it on whitespace:
//
//   - 13a (mteval-v13a.pl, WMT's and sacreBLEU's default): removes
//     "<skipped>" and "-\n", turns newlines into spaces, unescapes &quot;
//     &amp; &lt; &gt;, then splits off the ASCII punctuation and symbols
//     {|}~ [\]^_` space to & ( to + : to @ and /, a period or comma unless
//     it is between digits (left of a digit it stays; "3.5" and "1,000"
//     stay whole), and a dash after a digit. An apostrophe stays in its
//     word (doesn't). Non-ASCII punctuation is not split.
//   - intl (mteval-v14.pl's international tokenization): splits off every
//     Unicode punctuation character (category P) that has a non-digit
//     (anything outside category N) on either side, and every symbol
//     (category S: $ € + = emoji). A period after a number at the very
//     end stays attached ("2019."), as in mteval-v14.
//   - char: every character but whitespace is a token.
//   - none: the whitespace-separated words as they are.
//
// Whitespace is Python's (str.split): Unicode's, plus U+001C–U+001F. An
// unknown tokenizer name is an error.
func TokenizeBLEU(tokenizer, line string) ([]string, error) {
	f, err := bleuTokenizer(tokenizer)
	if err != nil {
		return nil, err
	}
	return pySplit(f(line)), nil
}

// bleuTokenizer returns sacreBLEU's tokenizer function of the given name:
// it maps a segment to its tokenized text, tokens separated by whitespace.
func bleuTokenizer(name string) (func(string) string, error) {
	switch name {
	case "13a":
		return tokenize13a, nil
	case "intl":
		return tokenizeIntl, nil
	case "char":
		return tokenizeChar, nil
	case "none":
		return func(s string) string { return s }, nil
	}
	return nil, fmt.Errorf("metrics: unknown BLEU tokenizer %q (known: %s)", name, strings.Join(BLEUTokenizers, ", "))
}

// rewrite is one regular-expression substitution of a tokenizer, applied
// as Python's re.sub: left to right, matches not overlapping.
type rewrite struct {
	re   *regexp.Regexp
	repl string
}

func apply(line string, rules []rewrite) string {
	for _, r := range rules {
		line = r.re.ReplaceAllString(line, r.repl)
	}
	return line
}

// rules13a are sacreBLEU's TokenizerRegexp (tokenizer_re.py), the
// language-dependent part of 13a, with the same character classes.
var rules13a = []rewrite{
	// punctuation and symbols: { to ~, [ to `, space to &, ( to +, : to @, /
	{regexp.MustCompile("([{-~\\[-` -&(-+:-@/])"), " ${1} "},
	// period and comma unless preceded by a digit
	{regexp.MustCompile(`([^0-9])([.,])`), "${1} ${2} "},
	// period and comma unless followed by a digit
	{regexp.MustCompile(`([.,])([^0-9])`), " ${1} ${2}"},
	// dash when preceded by a digit
	{regexp.MustCompile(`([0-9])(-)`), "${1} ${2} "},
}

// tokenize13a is sacreBLEU's Tokenizer13a.
func tokenize13a(line string) string {
	line = strings.ReplaceAll(line, "<skipped>", "")
	line = strings.ReplaceAll(line, "-\n", "")
	line = strings.ReplaceAll(line, "\n", " ")
	if strings.Contains(line, "&") {
		// In sacreBLEU's order, one after the other: "&amp;quot;" becomes
		// "&quot;", not a quote.
		line = strings.ReplaceAll(line, "&quot;", `"`)
		line = strings.ReplaceAll(line, "&amp;", "&")
		line = strings.ReplaceAll(line, "&lt;", "<")
		line = strings.ReplaceAll(line, "&gt;", ">")
	}
	return pyJoinSplit(apply(" "+line+" ", rules13a))
}

// rulesIntl are sacreBLEU's TokenizerV14International rules, with Go's
// Unicode category classes in place of the regex module's.
var rulesIntl = []rewrite{
	// punctuation preceded by a non-digit
	{regexp.MustCompile(`(\P{N})(\p{P})`), "${1} ${2} "},
	// punctuation followed by a non-digit
	{regexp.MustCompile(`(\p{P})(\P{N})`), " ${1} ${2}"},
	// symbols
	{regexp.MustCompile(`(\p{S})`), " ${1} "},
}

// tokenizeIntl is sacreBLEU's TokenizerV14International.
func tokenizeIntl(line string) string { return pyJoinSplit(apply(line, rulesIntl)) }

// tokenizeChar is sacreBLEU's TokenizerChar: the characters one space
// apart (whitespace characters then vanish in the split).
func tokenizeChar(line string) string {
	var b strings.Builder
	b.Grow(2 * len(line))
	for i, r := range line {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

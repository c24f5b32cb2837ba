package tasks

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Tokenizer splits text into tokens and joins tokens back into text.
// Implementations are stateless and safe for concurrent use.
type Tokenizer interface {
	// Name returns the name the tokenizer is saved under ("char", "word").
	Name() string
	// Split returns the tokens of s.
	Split(s string) []string
	// Join returns the text of toks; Split(Join(Split(s))) equals Split(s).
	Join(toks []string) string
}

// Char is the character tokenizer: one token per Unicode code point, with
// every character kept, spaces and newlines included. Join concatenates, so
// Join(Split(s)) == s for valid UTF-8; an invalid byte becomes U+FFFD.
type Char struct{}

// Word is the whitespace tokenizer: tokens are the maximal runs of
// non-space characters (strings.Fields); Join puts one space between tokens.
// As with Char, an invalid UTF-8 byte becomes U+FFFD, so tokens are always
// valid UTF-8.
type Word struct{}

var (
	_ Tokenizer = Char{}
	_ Tokenizer = Word{}
)

// Name returns "char".
func (Char) Name() string { return "char" }

// Split returns the code points of s, one string each.
func (Char) Split(s string) []string {
	toks := make([]string, 0, len(s))
	for _, r := range s {
		toks = append(toks, string(r))
	}
	return toks
}

// Join concatenates toks.
func (Char) Join(toks []string) string { return strings.Join(toks, "") }

// Name returns "word".
func (Word) Name() string { return "word" }

// Split returns the whitespace-separated fields of s.
func (Word) Split(s string) []string {
	if !utf8.ValidString(s) {
		var b strings.Builder
		for _, r := range s {
			b.WriteRune(r)
		}
		s = b.String()
	}
	return strings.Fields(s)
}

// Join joins toks with single spaces.
func (Word) Join(toks []string) string { return strings.Join(toks, " ") }

// TokenizerByName returns the tokenizer called name: "char" or "word".
func TokenizerByName(name string) (Tokenizer, error) {
	switch name {
	case "char":
		return Char{}, nil
	case "word":
		return Word{}, nil
	}
	return nil, fmt.Errorf("tasks: unknown tokenizer %q (known: char, word)", name)
}

func tokenizerNames() []string { return []string{"char", "word"} }

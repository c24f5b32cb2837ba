package tasks

import (
	"context"
	"fmt"
	"strings"
	"unicode"
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

// eachToken calls fn with the tokens of s in order, as tok.Split(s) would
// return them. For the built-in tokenizers and valid UTF-8, the tokens are
// substrings of s and nothing is allocated: the file-backed tasks count and
// encode their data this way instead of holding a []string per file (16
// bytes a token, a character-level file 16 times its size).
func eachToken(tok Tokenizer, s string, fn func(string)) {
	if !utf8.ValidString(s) {
		for _, t := range tok.Split(s) {
			fn(t)
		}
		return
	}
	eachValidToken(tok, s, fn)
}

// eachValidToken is eachToken of an s known to be valid UTF-8 (the text
// task's, which readText checked), without checking it again: a corpus
// is walked more than once.
func eachValidToken(tok Tokenizer, s string, fn func(string)) {
	switch tok.(type) {
	case Char:
		for i, r := range s {
			fn(s[i : i+utf8.RuneLen(r)])
		}
	case Word:
		for f := range strings.FieldsSeq(s) {
			fn(f)
		}
	default:
		for _, t := range tok.Split(s) {
			fn(t)
		}
	}
}

// TokenPiece is about how many bytes of a text eachPiece hands on at a
// time: a corpus of a gigabyte is tokenized in about 250 pieces, with a
// look at the context between two.
const TokenPiece = 4 << 20

// eachPiece calls fn on consecutive pieces of s that together are s, each
// ending just after a '\n' or ' ' (or at the end of s) and at least
// TokenPiece bytes long but the last, and returns ctx's error once ctx
// is done, before the next piece (nil ctx: never done). A piece
// ends at an ASCII space or newline, which no token of char or word
// contains, so the tokens of the pieces are the tokens of s.
func eachPiece(ctx context.Context, s string, fn func(piece string)) error {
	for len(s) > 0 {
		if ctx != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		end := len(s)
		if end > TokenPiece {
			if i := strings.IndexAny(s[TokenPiece:], "\n "); i >= 0 {
				end = TokenPiece + i + 1
			}
		}
		fn(s[:end])
		s = s[end:]
	}
	return nil
}

// countTokens returns len(tok.Split(s)) without building the tokens.
func countTokens(tok Tokenizer, s string) int {
	if !utf8.ValidString(s) {
		return len(tok.Split(s))
	}
	return countValidTokens(tok, s)
}

// countValidTokens is countTokens of an s known to be valid UTF-8.
func countValidTokens(tok Tokenizer, s string) int {
	if _, ok := tok.(Char); ok {
		return utf8.RuneCountInString(s)
	}
	n := 0
	eachValidToken(tok, s, func(string) { n++ })
	return n
}

// sameTokens returns a string that equals another's exactly when
// tok.Split gives both the same tokens: s itself when it is already in
// that form (for Char every valid UTF-8 string is; for Word one with
// single spaces between fields and none around them), else the tokens
// joined by tok.Join.
func sameTokens(tok Tokenizer, s string) string {
	switch tok.(type) {
	case Char:
		if utf8.ValidString(s) {
			return s
		}
	case Word:
		if utf8.ValidString(s) && singleSpaced(s) {
			return s
		}
	}
	return tok.Join(tok.Split(s))
}

// singleSpaced reports whether the fields of s are separated by exactly
// one ' ' with no white space before the first or after the last.
func singleSpaced(s string) bool {
	space := true // no leading space
	for _, r := range s {
		if unicode.IsSpace(r) {
			if r != ' ' || space {
				return false
			}
			space = true
		} else {
			space = false
		}
	}
	return !space || s == ""
}

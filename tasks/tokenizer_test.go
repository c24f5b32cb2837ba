package tasks

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTokenizers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		want     []string
		joined   string
	}{
		{"char", "ab c", []string{"a", "b", " ", "c"}, "ab c"},
		{"char", "héllo\n", []string{"h", "é", "l", "l", "o", "\n"}, "héllo\n"},
		{"char", "", []string{}, ""},
		{"word", "  walk  after\trun\n", []string{"walk", "after", "run"}, "walk after run"},
		{"word", "   ", []string{}, ""},
	} {
		tok, err := TokenizerByName(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		got := tok.Split(tc.in)
		if len(got) != 0 || len(tc.want) != 0 {
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s.Split(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
			}
		}
		if j := tok.Join(got); j != tc.joined {
			t.Errorf("%s.Join(%q) = %q, want %q", tc.name, got, j, tc.joined)
		}
		if tok.Name() != tc.name {
			t.Errorf("Name() = %q, want %q", tok.Name(), tc.name)
		}
	}
	if _, err := TokenizerByName("bpe"); err == nil || err.Error() != `tasks: unknown tokenizer "bpe" (known: char, word)` {
		t.Errorf("TokenizerByName(bpe) error = %v", err)
	}
}

// FuzzTokenize checks that tokenize→join→tokenize is stable for both
// tokenizers, that char tokenization loses nothing on valid UTF-8, and that
// a vocabulary of the tokens survives a JSON round trip with its ids.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "abc", "walk after run left", " a\tb\n\nc ", "héllo wörld", "\xff\xfe", "<pad> <unk> x", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range []Tokenizer{Char{}, Word{}} {
			toks := tok.Split(s)
			again := tok.Split(tok.Join(toks))
			if !slices.Equal(toks, again) {
				t.Fatalf("%s: Split(Join(Split(%q))) = %q, want %q", tok.Name(), s, again, toks)
			}
			v := BuildVocab([][]string{toks}, 1, 0)
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var w Vocab
			if err := json.Unmarshal(b, &w); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			if !slices.Equal(w.Tokens(), v.Tokens()) || !slices.Equal(w.Encode(toks), v.Encode(toks)) {
				t.Fatalf("vocab round trip: %q, want %q", w.Tokens(), v.Tokens())
			}
		}
		if utf8.ValidString(s) {
			if got := (Char{}).Join(Char{}.Split(s)); got != s {
				t.Fatalf("char: Join(Split(%q)) = %q", s, got)
			}
		}
	})
}

// randomText draws text that exercises both tokenizers: ASCII and
// multi-byte letters, runs of spaces, tabs, newlines and other Unicode
// white space (U+00A0, U+3000), and a NUL.
func randomText(r *rand.Rand, n int) string {
	pieces := []string{"a", "b", "ß", "λ", "語", "😀", " ", "  ", "\t", "\n", "\u00a0", "\u3000", "\x00", "ab", "λx"}
	var b strings.Builder
	for range n {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestEachTokenIsSplit: the allocation-free token walk of the file tasks
// gives exactly Split's tokens, and sameTokens tells two strings apart
// exactly when their tokens differ.
func TestEachTokenIsSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tok := range []Tokenizer{Char{}, Word{}} {
		var texts []string
		for range 400 {
			texts = append(texts, randomText(r, r.IntN(8)))
		}
		texts = append(texts, "", " ", "a b", "a  b", " a b", "a b ", "a\tb", "a\u00a0b", "a\x00b", "\xff x", "a \xfe")
		for _, s := range texts {
			var got []string
			eachToken(tok, s, func(t string) { got = append(got, t) })
			if want := tok.Split(s); !slices.Equal(got, want) {
				t.Fatalf("%s: eachToken(%q) = %q, Split = %q", tok.Name(), s, got, want)
			}
			if n := countTokens(tok, s); n != len(got) {
				t.Fatalf("%s: countTokens(%q) = %d, want %d", tok.Name(), s, n, len(got))
			}
		}
		for _, a := range texts {
			for _, b := range slices.Concat(texts[:60], texts[400:]) {
				same := slices.Equal(tok.Split(a), tok.Split(b))
				if got := sameTokens(tok, a) == sameTokens(tok, b); got != same {
					t.Fatalf("%s: sameTokens(%q) == sameTokens(%q) is %v, their tokens equal: %v", tok.Name(), a, b, got, same)
				}
			}
		}
	}
}

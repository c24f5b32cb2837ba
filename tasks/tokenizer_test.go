package tasks

import (
	"encoding/json"
	"reflect"
	"slices"
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

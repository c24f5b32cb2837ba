package tasks

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/seq"
)

func TestBuildVocabOrder(t *testing.T) {
	t.Parallel()
	seqs := [][]string{{"b", "a", "c", "a"}, {"c", "a", "d", "<pad>", "<unk>"}}
	for _, tc := range []struct {
		name              string
		minCount, maxSize int
		want              []string
	}{
		{"all", 1, 0, []string{"<pad>", "<bos>", "<eos>", "<unk>", "a", "c", "b", "d"}},
		{"min count 2", 2, 0, []string{"<pad>", "<bos>", "<eos>", "<unk>", "a", "c"}},
		{"max size 6", 0, 6, []string{"<pad>", "<bos>", "<eos>", "<unk>", "a", "c"}},
		{"max size below reserved", 1, 2, []string{"<pad>", "<bos>", "<eos>", "<unk>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BuildVocab(seqs, tc.minCount, tc.maxSize).Tokens(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("BuildVocab(min %d, max %d) = %q, want %q", tc.minCount, tc.maxSize, got, tc.want)
			}
		})
	}
}

func TestVocabLookup(t *testing.T) {
	t.Parallel()
	v := NewVocab([]string{"x", "y", "x", "<eos>"})
	if got, want := v.Len(), 6; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	for _, tc := range []struct {
		tok  string
		want int
	}{{"x", 4}, {"y", 5}, {"z", seq.UnkID}, {"<unk>", seq.UnkID}, {"<pad>", seq.UnkID}, {"<bos>", seq.UnkID}, {"<eos>", seq.UnkID}, {"", seq.UnkID}} {
		if got := v.ID(tc.tok); got != tc.want {
			t.Errorf("ID(%q) = %d, want %d", tc.tok, got, tc.want)
		}
	}
	for _, tc := range []struct {
		id   int
		want string
	}{{seq.PadID, "<pad>"}, {seq.BOSID, "<bos>"}, {seq.EOSID, "<eos>"}, {seq.UnkID, "<unk>"}, {4, "x"}, {6, "<unk>"}, {-1, "<unk>"}} {
		if got := v.Token(tc.id); got != tc.want {
			t.Errorf("Token(%d) = %q, want %q", tc.id, got, tc.want)
		}
	}
	if got, want := v.Encode([]string{"y", "q", "x"}), []int{5, seq.UnkID, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if got, want := v.Decode([]int{seq.BOSID, 5, 4, seq.EOSID}), []string{"<bos>", "y", "x", "<eos>"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Decode = %q, want %q", got, want)
	}
}

func TestStrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want []int }{
		{nil, []int{}},
		{[]int{seq.BOSID, 5, 6, seq.EOSID, 7, seq.PadID}, []int{5, 6}},
		{[]int{5, seq.PadID, 6}, []int{5, 6}},
		{[]int{seq.EOSID, 5}, []int{}},
	} {
		if got := Strip(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Strip(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestVocabJSON(t *testing.T) {
	t.Parallel()
	v := BuildVocab([][]string{{"b", "a", "a", "é", "\t"}}, 1, 0)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"tokens":["\u003cpad\u003e","\u003cbos\u003e","\u003ceos\u003e","\u003cunk\u003e","a","\t","b","é"]}`; got != want {
		t.Fatalf("Marshal = %s, want %s", got, want)
	}
	var w Vocab
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.Tokens(), v.Tokens()) || w.ID("é") != v.ID("é") {
		t.Fatalf("round trip = %q, want %q", w.Tokens(), v.Tokens())
	}
	for _, tc := range []struct{ in, want string }{
		{`{"tokens":["<pad>","<bos>","<eos>"]}`, "at least the 4 reserved"},
		{`{"tokens":["<bos>","<pad>","<eos>","<unk>"]}`, `token 0 is "<bos>", want "<pad>"`},
		{`{"tokens":["<pad>","<bos>","<eos>","<unk>","a","a"]}`, "repeated or reserved"},
		{`{"tokens":["<pad>","<bos>","<eos>","<unk>","<pad>"]}`, "repeated or reserved"},
		{`[1]`, "vocab: json"},
	} {
		var v Vocab
		err := json.Unmarshal([]byte(tc.in), &v)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Unmarshal(%s) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestVocabMarshalInvalidUTF8(t *testing.T) {
	t.Parallel()
	if _, err := json.Marshal(NewVocab([]string{"ok", "\xff"})); err == nil || !strings.Contains(err.Error(), "token 5") {
		t.Fatalf("Marshal of a vocab with an invalid UTF-8 token: error = %v, want one naming token 5", err)
	}
}

// BenchmarkVocabOfCounts: the vocabulary of a million distinct words with
// counts 1-3 (a file of distinct words, as a tokenizer sees it).
func BenchmarkVocabOfCounts(b *testing.B) {
	counts := map[string]int{}
	for i := range 1_000_000 {
		counts[fmt.Sprintf("w%x", int64(i)*2654435761%1000003)] = 1 + i%3
	}
	b.ReportAllocs()
	for b.Loop() {
		vocabOfCounts(counts, 1, 0)
	}
}

package tasks

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
)

func TestSpecJSON(t *testing.T) {
	t.Parallel()
	src := NewVocab(Char{}.Split("abc"))
	tgt := NewVocab([]string{"I_WALK", "I_RUN"})
	for _, tc := range []struct {
		name string
		d    *Dataset
		in   string
		ids  []int
		out  []int
		text string
	}{
		{"seq2seq", &Dataset{Name: "x", SrcVocab: src, TgtVocab: tgt, SrcTok: Char{}, TgtTok: Word{}, Alignment: AlignCopy},
			"cab!", []int{6, 4, 5, seq.UnkID}, []int{seq.BOSID, 5, 4, seq.EOSID, 4}, "I_RUN I_WALK"},
		{"lm", &Dataset{Name: "text", LM: true, SrcVocab: src, TgtVocab: src, SrcTok: Char{}, TgtTok: Char{}},
			"ba", []int{5, 4}, []int{6, 6, seq.PadID}, "cc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.d.Spec())
			if err != nil {
				t.Fatal(err)
			}
			var s Spec
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&s, tc.d.Spec()) {
				t.Fatalf("round trip = %+v, want %+v (json %s)", s, tc.d.Spec(), b)
			}
			if got := s.EncodeInput(tc.in); !reflect.DeepEqual(got, tc.ids) {
				t.Errorf("EncodeInput(%q) = %v, want %v", tc.in, got, tc.ids)
			}
			if got := s.DecodeOutput(tc.out); got != tc.text {
				t.Errorf("DecodeOutput(%v) = %q, want %q", tc.out, got, tc.text)
			}
			if tc.d.LM && strings.Contains(string(b), "src_vocab") {
				t.Errorf("LM spec repeats the vocabulary: %s", b)
			}
		})
	}
	for _, tc := range []struct{ in, want string }{
		{`{"task":"x","tgt_tokenizer":"bpe","tgt_vocab":{"tokens":["<pad>","<bos>","<eos>","<unk>"]}}`, `tgt_tokenizer: tasks: unknown tokenizer "bpe"`},
		{`{"task":"x","tgt_tokenizer":"char"}`, "no tgt_vocab"},
		{`{"task":"x","tgt_tokenizer":"char","tgt_vocab":{"tokens":["<pad>","<bos>","<eos>","<unk>"]}}`, "no src_vocab"},
	} {
		var s Spec
		if err := json.Unmarshal([]byte(tc.in), &s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Unmarshal(%s) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestDatasetSplit(t *testing.T) {
	t.Parallel()
	d := &Dataset{Train: ListOf(make([]Example, 3)), Valid: ListOf(make([]Example, 2)), Test: ListOf(make([]Example, 1))}
	for name, want := range map[string]int{"train": 3, "valid": 2, "test": 1} {
		if got, err := d.Split(name); err != nil || got.Len() != want {
			t.Errorf("Split(%q) = %d examples, %v; want %d", name, got.Len(), err, want)
		}
	}
	if _, err := d.Split("dev"); err == nil {
		t.Errorf("Split(dev): no error")
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	_, err := Build("copyy", nil, Options{})
	var ue *registry.UnknownError
	if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), `task: unknown name "copyy" (known: `) {
		t.Fatalf("Build(copyy) error = %v, want an *registry.UnknownError", err)
	}
}

func TestOptionsPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ base, p, want string }{
		{"", "data/x.txt", "data/x.txt"},
		{"exp", "data/x.txt", "exp/data/x.txt"},
		{"exp", "/abs/x.txt", "/abs/x.txt"},
	} {
		if got := (Options{BaseDir: tc.base}).Path(tc.p); got != tc.want {
			t.Errorf("Options{BaseDir: %q}.Path(%q) = %q, want %q", tc.base, tc.p, got, tc.want)
		}
	}
}

// TestBuildChecksCapability: a task's LanguageModel capability must agree
// with the datasets it builds, so that validation, which reads the
// capability, and training, which reads the dataset, never disagree.
func TestBuildChecksCapability(t *testing.T) {
	t.Parallel()
	r := registry.New[Factory]("task")
	lm := func(any, Options) (*Dataset, error) { return &Dataset{Name: "x", LM: true}, nil }
	s2s := func(any, Options) (*Dataset, error) { return &Dataset{Name: "x"}, nil }
	r.Register(Entry{Name: "lm-ok", New: lm, Caps: []registry.Capability{LanguageModel}})
	r.Register(Entry{Name: "lm-unmarked", New: lm})
	r.Register(Entry{Name: "s2s-ok", New: s2s})
	r.Register(Entry{Name: "s2s-marked", New: s2s, Caps: []registry.Capability{LanguageModel}})
	for name, wantErr := range map[string]bool{"lm-ok": false, "lm-unmarked": true, "s2s-ok": false, "s2s-marked": true} {
		if _, err := buildIn(r, name, nil, Options{}); (err != nil) != wantErr {
			t.Errorf("build %s: error %v, want error %v", name, err, wantErr)
		}
	}
	text, _ := Registry.Info("text")
	if !text.Has(LanguageModel) {
		t.Errorf("task text lacks the LanguageModel capability")
	}
}

package metrics

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

// TestCorpusBLEUFixture compares with NLTK 3.8 corpus_bleu values from
// testdata/corpus_bleu.json (copied from shared/fixtures/bleu, made by its
// make_bleu_fixtures.py on whitespace-tokenised text).
func TestNLTKCorpusBLEUFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/corpus_bleu.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Cases []struct {
			Name       string     `json:"name"`
			Hypotheses []string   `json:"hypotheses"`
			References [][]string `json:"references"`
			BLEU       float64    `json:"bleu"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) != 9 {
		t.Fatalf("fixture has %d cases, want 9", len(fx.Cases))
	}
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			hyps := make([][]string, len(c.Hypotheses))
			refs := make([][][]string, len(c.References))
			for i, h := range c.Hypotheses {
				hyps[i] = strings.Fields(h)
			}
			for i, rs := range c.References {
				for _, r := range rs {
					refs[i] = append(refs[i], strings.Fields(r))
				}
			}
			got := CorpusBLEU(hyps, refs)
			// Relative for the tiny no-4-gram value (1.8e-231), absolute otherwise.
			if d := math.Abs(got - c.BLEU); d > 1e-6 || d > 1e-9*c.BLEU && c.BLEU < 1e-6 {
				t.Fatalf("CorpusBLEU = %.17g, want %.17g (NLTK)", got, c.BLEU)
			}
		})
	}
}

func TestNLTKCorpusBLEUEdges(t *testing.T) {
	f := strings.Fields
	for _, tc := range []struct {
		name string
		hyps [][]string
		refs [][][]string
		want float64
	}{
		{"empty corpus", nil, nil, 0},
		{"no unigram match", [][]string{f("a b c d")}, [][][]string{{f("w x y z")}}, 0},
		{"all empty hypotheses", [][]string{{}}, [][][]string{{f("a b")}}, 0},
		// 4 tokens, 1 n-gram of each order, all matching; the closest of
		// references of lengths 3 and 5 is the shorter one: c > r, BP = 1.
		{"tie to shorter reference", [][]string{f("a b c d")}, [][][]string{{f("a b c d e"), f("a b c")}}, 1},
		// Same tokens as identical but reference longer: BP = exp(1 - 8/4).
		{"brevity", [][]string{f("a b c d")}, [][][]string{{f("a b c d e f g h")}}, math.Exp(-1)},
		// Repeated token clipped to its 2 reference occurrences: p1 = 2/4, p2..4 = min normal, BP 1.
		{"clipping", [][]string{f("the the the the")}, [][][]string{{f("the cat the")}}, math.Exp((math.Log(2.0/4) + 3*math.Log(minNormal)) / 4)},
	} {
		if got := CorpusBLEU(tc.hyps, tc.refs); math.Abs(got-tc.want) > 1e-12*math.Max(1, tc.want) {
			t.Errorf("%s: CorpusBLEU = %g, want %g", tc.name, got, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("CorpusBLEU with 1 hypothesis and 0 reference sets did not panic")
		}
	}()
	CorpusBLEU([][]string{{"a"}}, nil)
}

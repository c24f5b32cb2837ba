package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// sacreTol is how close a score must be to sacreBLEU's. The issue asks for
// 0.01; the port does sacreBLEU's arithmetic in its order, so it is held to
// far less.
const sacreTol = 1e-9

type fixtureBLEU struct {
	Score      float64   `json:"score"`
	Counts     []int     `json:"counts"`
	Totals     []int     `json:"totals"`
	Precisions []float64 `json:"precisions"`
	BP         *float64  `json:"bp"`
	SysLen     *int      `json:"sys_len"`
	RefLen     *int      `json:"ref_len"`
	Signature  string    `json:"signature"`
}

type fixtureChrF struct {
	Score     float64 `json:"score"`
	Name      string  `json:"name"`
	Signature string  `json:"signature"`
}

type fixtureCase struct {
	Name       string                     `json:"name"`
	Hypotheses []string                   `json:"hypotheses"`
	References [][]string                 `json:"references"`
	Scores     map[string]json.RawMessage `json:"scores"`
}

func loadJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func (c fixtureCase) score(t *testing.T, key string, v any) bool {
	t.Helper()
	raw, ok := c.Scores[key]
	if !ok {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %s: %v", c.Name, key, err)
	}
	return true
}

// maxDiff tracks the largest difference from sacreBLEU per group of scores.
type maxDiff map[string]float64

func (m maxDiff) check(t *testing.T, group, what string, got, want float64) {
	t.Helper()
	d := math.Abs(got - want)
	m[group] = max(m[group], d)
	if !(d <= sacreTol) {
		t.Errorf("%s = %.15g, sacreBLEU %.15g (off by %.3g)", what, got, want, d)
	}
}

func (m maxDiff) log(t *testing.T) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("max |attnlab − sacreBLEU| %-22s %.3g", k, m[k])
	}
}

func newBLEU(t *testing.T, opt BLEUOptions) *BLEU {
	t.Helper()
	b, err := NewBLEU(opt)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newChrF(t *testing.T, opt ChrFOptions) *ChrF {
	t.Helper()
	c, err := NewChrF(opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkBLEU compares a corpus BLEU with sacreBLEU's, statistics and
// signature included (those the fixture has).
func (m maxDiff) checkBLEU(t *testing.T, group, what string, got BLEUScore, want fixtureBLEU) {
	t.Helper()
	m.check(t, group, what, got.Score, want.Score)
	if got.Signature != want.Signature {
		t.Errorf("%s: signature %q, sacreBLEU %q", what, got.Signature, want.Signature)
	}
	for n, p := range want.Precisions {
		m.check(t, group, fmt.Sprintf("%s precision %d", what, n+1), got.Precisions[n], p)
	}
	if strings.Contains(got.Signature, "smooth:add-k") && got.Counts[0] > 0 {
		// sacreBLEU reports add-k's counts with k added to orders 2–4 (when
		// there is a match: without one it returns before smoothing).
		for n := 1; n < len(got.Counts); n++ {
			got.Counts[n]++
			got.Totals[n]++
		}
	}
	if want.Counts != nil && (!slices.Equal(got.Counts[:], want.Counts) || !slices.Equal(got.Totals[:], want.Totals)) {
		t.Errorf("%s: counts %v / %v, sacreBLEU %v / %v", what, got.Counts, got.Totals, want.Counts, want.Totals)
	}
	if want.BP != nil {
		m.check(t, group, what+" BP", got.BP, *want.BP)
	}
	if want.SysLen != nil && (got.SysLen != *want.SysLen || got.RefLen != *want.RefLen) {
		t.Errorf("%s: lengths %d/%d, sacreBLEU %d/%d", what, got.SysLen, got.RefLen, *want.SysLen, *want.RefLen)
	}
}

// TestSacreBLEUFixture checks every case of testdata/sacrebleu.json
// (copied from shared/fixtures/sacrebleu, made by sacreBLEU 2.5.1): corpus
// BLEU with each tokenizer and lowercased, sentence BLEU, chrF2 and chrF++.
func TestSacreBLEUFixture(t *testing.T) {
	t.Parallel()
	var fx struct {
		Version string        `json:"sacrebleu_version"`
		Cases   []fixtureCase `json:"cases"`
	}
	loadJSON(t, "testdata/sacrebleu.json", &fx)
	if fx.Version != SacreBLEUVersion {
		t.Fatalf("fixture made by sacreBLEU %s, the port follows %s", fx.Version, SacreBLEUVersion)
	}
	if len(fx.Cases) != 8 {
		t.Fatalf("fixture has %d cases, want 8", len(fx.Cases))
	}
	diffs := maxDiff{}
	checked := 0
	for _, c := range fx.Cases {
		for _, tok := range BLEUTokenizers {
			var want fixtureBLEU
			if !c.score(t, "bleu_"+tok, &want) {
				t.Fatalf("%s: no bleu_%s", c.Name, tok)
			}
			got := newBLEU(t, BLEUOptions{Tokenize: tok}).Corpus(c.Hypotheses, c.References)
			diffs.checkBLEU(t, "bleu_"+tok, c.Name+" bleu_"+tok, got, want)
			checked++
		}
		var lc fixtureBLEU
		if !c.score(t, "bleu_13a_lowercase", &lc) {
			t.Fatalf("%s: no bleu_13a_lowercase", c.Name)
		}
		diffs.checkBLEU(t, "bleu_13a_lowercase", c.Name+" lowercase", newBLEU(t, BLEUOptions{Lowercase: true}).Corpus(c.Hypotheses, c.References), lc)
		var sent []float64
		if !c.score(t, "sentence_bleu_13a", &sent) || len(sent) != len(c.Hypotheses) {
			t.Fatalf("%s: sentence_bleu_13a missing or of the wrong length", c.Name)
		}
		b := newBLEU(t, BLEUOptions{})
		for i, h := range c.Hypotheses {
			refs := make([]string, len(c.References))
			for k := range refs {
				refs[k] = c.References[k][i]
			}
			diffs.check(t, "sentence_bleu_13a", fmt.Sprintf("%s sentence %d", c.Name, i), b.Sentence(h, refs).Score, sent[i])
		}
		for key, opt := range map[string]ChrFOptions{"chrf2": ChrF2(), "chrf2pp": ChrFPlusPlus()} {
			var want fixtureChrF
			if !c.score(t, key, &want) {
				t.Fatalf("%s: no %s", c.Name, key)
			}
			got := newChrF(t, opt).Corpus(c.Hypotheses, c.References)
			diffs.check(t, key, c.Name+" "+key, got.Score, want.Score)
			if got.Signature != want.Signature {
				t.Errorf("%s %s: signature %q, sacreBLEU %q", c.Name, key, got.Signature, want.Signature)
			}
		}
		checked += 4
	}
	if checked != 8*8 {
		t.Fatalf("checked %d corpus scores, want 64", checked)
	}
	diffs.log(t)
}

// TestSacreBLEUEdge checks testdata/sacrebleu_edge.json (made by
// make_sacrebleu_edge.py with sacreBLEU 2.5.1): tokenizer outputs, Python's
// lowercasing, every smoothing, several and empty references, chrF's
// variants and sentence chrF++, and two random corpora.
func TestSacreBLEUEdge(t *testing.T) {
	t.Parallel()
	var fx struct {
		Version  string              `json:"sacrebleu_version"`
		Tokenize []map[string]any    `json:"tokenize"`
		Lower    []map[string]string `json:"lower"`
		Cases    []fixtureCase       `json:"cases"`
	}
	loadJSON(t, "testdata/sacrebleu_edge.json", &fx)
	if fx.Version != SacreBLEUVersion || len(fx.Tokenize) == 0 || len(fx.Lower) == 0 || len(fx.Cases) < 10 {
		t.Fatalf("fixture of sacreBLEU %s with %d tokenizer lines, %d lowercase lines, %d cases: incomplete",
			fx.Version, len(fx.Tokenize), len(fx.Lower), len(fx.Cases))
	}
	for _, e := range fx.Tokenize {
		line := e["line"].(string)
		for _, tok := range BLEUTokenizers {
			var want []string
			for _, w := range e[tok].([]any) {
				want = append(want, w.(string))
			}
			got := newBLEU(t, BLEUOptions{Tokenize: tok}).Tokens(line)
			if !slices.Equal(got, want) {
				t.Errorf("%s tokens of %q:\n got %q\nwant %q", tok, line, got, want)
			}
		}
	}
	for _, e := range fx.Lower {
		if got := pyLower(e["line"]); got != e["lower"] {
			t.Errorf("pyLower(%q) = %q, Python %q", e["line"], got, e["lower"])
		}
	}
	diffs := maxDiff{}
	for _, c := range fx.Cases {
		for key, raw := range c.Scores {
			switch {
			case strings.HasPrefix(key, "bleu_"):
				opt := BLEUOptions{Tokenize: strings.Split(key, "_")[1], Lowercase: strings.HasSuffix(key, "_lc")}
				if s, ok := strings.CutPrefix(key, "bleu_13a_smooth_"); ok {
					opt = BLEUOptions{Smooth: s}
				}
				var want fixtureBLEU
				c.score(t, key, &want)
				diffs.checkBLEU(t, "bleu", c.Name+" "+key, newBLEU(t, opt).Corpus(c.Hypotheses, c.References), want)
			case key == "sentence_bleu_13a" || key == "sentence_chrf2pp":
				var want []float64
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatal(err)
				}
				b, f := newBLEU(t, BLEUOptions{}), newChrF(t, ChrFPlusPlus())
				for i, h := range c.Hypotheses {
					refs := make([]string, len(c.References))
					for k := range refs {
						refs[k] = c.References[k][i]
					}
					got := b.Sentence(h, refs).Score
					if key == "sentence_chrf2pp" {
						got = f.Sentence(h, refs).Score
					}
					diffs.check(t, key, fmt.Sprintf("%s %s %d", c.Name, key, i), got, want[i])
				}
			case strings.HasPrefix(key, "chrf"):
				opt := map[string]ChrFOptions{
					"chrf2":            ChrF2(),
					"chrf2pp":          ChrFPlusPlus(),
					"chrf2_lc":         {CharOrder: 6, Beta: 2, Lowercase: true},
					"chrf2_whitespace": {CharOrder: 6, Beta: 2, Whitespace: true},
					"chrf2_eps":        {CharOrder: 6, Beta: 2, EpsSmoothing: true},
					"chrf2pp_eps":      {CharOrder: 6, WordOrder: 2, Beta: 2, EpsSmoothing: true},
					"chrf1_nc4_nw1":    {CharOrder: 4, WordOrder: 1, Beta: 1},
				}
				o, ok := opt[key]
				if !ok {
					t.Fatalf("%s: unknown fixture score %s", c.Name, key)
				}
				var want fixtureChrF
				c.score(t, key, &want)
				got := newChrF(t, o).Corpus(c.Hypotheses, c.References)
				diffs.check(t, "chrf", c.Name+" "+key, got.Score, want.Score)
				if got.Name != want.Name || got.Signature != want.Signature {
					t.Errorf("%s %s: %s|%s, sacreBLEU %s|%s", c.Name, key, got.Name, got.Signature, want.Name, want.Signature)
				}
			default:
				t.Fatalf("%s: unknown fixture score %s", c.Name, key)
			}
		}
	}
	diffs.log(t)
}

// TestNLTKFixtureOnNewScale scores the NLTK 3.8 corpus_bleu fixture
// (testdata/corpus_bleu.json, whitespace tokens, no smoothing; copied from
// shared/fixtures/bleu) with BLEU's tokenize none and smooth none: an
// independent implementation that agrees with sacreBLEU's arithmetic, ×100,
// except where NLTK counts at least one n-gram for an empty hypothesis
// (empty_hypothesis_in_corpus: there sacreBLEU's value, from
// sacrebleu_edge.json, is expected and must differ from NLTK's).
func TestNLTKFixtureOnNewScale(t *testing.T) {
	t.Parallel()
	var fx struct {
		Cases []struct {
			Name       string     `json:"name"`
			Hypotheses []string   `json:"hypotheses"`
			References [][]string `json:"references"`
			BLEU       float64    `json:"bleu"`
		} `json:"cases"`
	}
	loadJSON(t, "testdata/corpus_bleu.json", &fx)
	var edge struct {
		NLTK []struct {
			Name       string  `json:"name"`
			SmoothNone float64 `json:"smooth_none"`
		} `json:"nltk_inputs"`
	}
	loadJSON(t, "testdata/sacrebleu_edge.json", &edge)
	if len(fx.Cases) != 9 || len(edge.NLTK) != 9 {
		t.Fatalf("%d NLTK cases, %d sacreBLEU scores of them; want 9 each", len(fx.Cases), len(edge.NLTK))
	}
	b := newBLEU(t, BLEUOptions{Tokenize: "none", Smooth: SmoothNone})
	for i, c := range fx.Cases {
		var refs [][]string // NLTK: references per hypothesis; here: reference sets
		for k := range c.References[0] {
			set := make([]string, len(c.Hypotheses))
			for j := range set {
				set[j] = c.References[j][k]
			}
			refs = append(refs, set)
		}
		got := b.Corpus(c.Hypotheses, refs).Score
		sacre := edge.NLTK[i].SmoothNone
		if edge.NLTK[i].Name != c.Name {
			t.Fatalf("case %d: %s, sacreBLEU's scores are of %s", i, c.Name, edge.NLTK[i].Name)
		}
		if math.Abs(got-sacre) > sacreTol {
			t.Errorf("%s: %.15g, sacreBLEU %.15g", c.Name, got, sacre)
		}
		nltk := 100 * c.BLEU
		if c.Name == "empty_hypothesis_in_corpus" {
			if math.Abs(got-nltk) < 1 {
				t.Errorf("%s: %.6g is NLTK's %.6g, but NLTK adds 1 to each n-gram total of the empty hypothesis and sacreBLEU does not", c.Name, got, nltk)
			}
			continue
		}
		if math.Abs(got-nltk) > 1e-9 {
			t.Errorf("%s: %.15g, NLTK ×100 %.15g", c.Name, got, nltk)
		}
	}
}

func TestBLEUEdges(t *testing.T) {
	t.Parallel()
	b := newBLEU(t, BLEUOptions{})
	for _, tc := range []struct {
		name       string
		hyps, refs []string
		want       float64
	}{
		{"empty corpus", nil, nil, 0},
		{"no match", []string{"a b c d"}, []string{"w x y z"}, 0},
		{"empty hypothesis", []string{""}, []string{"a b"}, 0},
		{"identical", []string{"a b c d"}, []string{"a b c d"}, 100},
		// Same 4 tokens, reference of 8: every precision 100, BP = exp(1 − 8/4).
		{"brevity", []string{"a b c d"}, []string{"a b c d e f g h"}, 100 * math.Exp(-1)},
		// 3 tokens: no 4-gram, so p4 = 0 and corpus BLEU is 0 (no effective order).
		{"shorter than 4", []string{"a b c"}, []string{"a b c"}, 0},
		// Repeated token clipped to its 2 occurrences: p1 = 2/4; p2..p4 have
		// no match: exp smoothing gives 100/(2·3), 100/(4·2), 100/(8·1).
		{"clipping and exp smoothing", []string{"the the the the"}, []string{"the cat the"},
			math.Exp((math.Log(50) + math.Log(100.0/6) + math.Log(100.0/8) + math.Log(100.0/8)) / 4)},
	} {
		got := b.Corpus(tc.hyps, [][]string{tc.refs}).Score
		if math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: BLEU = %.12g, want %.12g", tc.name, got, tc.want)
		}
	}
	// Effective order: a 3-token sentence identical to its reference is 100.
	if got := b.Sentence("a b c", []string{"a b c"}).Score; math.Abs(got-100) > 1e-9 {
		t.Errorf("sentence BLEU of an identical 3-token sentence = %v, want 100", got)
	}
	for _, bad := range []BLEUOptions{{Tokenize: "13b"}, {Smooth: "laplace"}, {Smooth: SmoothFloor, SmoothValue: -1}} {
		if _, err := NewBLEU(bad); err == nil {
			t.Errorf("NewBLEU(%+v) accepted", bad)
		}
	}
	if _, err := NewBLEU(BLEUOptions{Tokenize: "13b"}); err == nil || !strings.Contains(err.Error(), "13a, intl, char, none") {
		t.Errorf("unknown tokenizer: error %v does not list the known ones", err)
	}
	for name, f := range map[string]func(){
		"length mismatch": func() { b.Corpus([]string{"a"}, [][]string{{}}) },
		"no reference":    func() { b.Corpus([]string{"a"}, nil) },
		"no sentence ref": func() { b.Sentence("a", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestBLEUScoreString(t *testing.T) {
	t.Parallel()
	s := newBLEU(t, BLEUOptions{}).Corpus([]string{"The cat sat on the mat."}, [][]string{{"The cat sat on a mat."}})
	const want = "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1 = 48.89 85.7/66.7/40.0/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)"
	if s.String() != want {
		t.Errorf("String() =\n%s\nwant\n%s", s, want)
	}
	c := newChrF(t, ChrFPlusPlus()).Corpus([]string{"a"}, [][]string{{"a"}})
	if got := c.String(); got != "chrF2++|nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.5.1 = 100.00" {
		t.Errorf("chrF++ String() = %s", got)
	}
}

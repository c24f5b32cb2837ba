package metrics_test

import (
	"fmt"

	"github.com/attnlab/attnlab/metrics"
)

func ExampleBLEU() {
	// Detokenized output against the raw reference, as sacreBLEU scores it.
	bleu, err := metrics.NewBLEU(metrics.BLEUOptions{}) // 13a, case-sensitive, exp smoothing
	if err != nil {
		panic(err)
	}
	hyps := []string{"The cat sat on the mat."}
	refs := [][]string{{"The cat sat on a mat."}} // one reference set, aligned with hyps
	fmt.Println(bleu.Corpus(hyps, refs))
	fmt.Printf("sentence BLEU %.2f\n", bleu.Sentence(hyps[0], []string{refs[0][0]}).Score)
	chrf, _ := metrics.NewChrF(metrics.ChrFPlusPlus())
	fmt.Println(chrf.Corpus(hyps, refs))
	// Output:
	// BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1 = 48.89 85.7/66.7/40.0/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)
	// sentence BLEU 48.89
	// chrF2++|nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.5.1 = 72.66
}

func ExampleTokenizeBLEU() {
	for _, tok := range metrics.BLEUTokenizers {
		toks, _ := metrics.TokenizeBLEU(tok, "It costs $3.50, doesn't it?")
		fmt.Printf("%-4s %q\n", tok, toks)
	}
	// Output:
	// 13a  ["It" "costs" "$" "3.50" "," "doesn't" "it" "?"]
	// intl ["It" "costs" "$" "3.50" "," "doesn" "'" "t" "it" "?"]
	// char ["I" "t" "c" "o" "s" "t" "s" "$" "3" "." "5" "0" "," "d" "o" "e" "s" "n" "'" "t" "i" "t" "?"]
	// none ["It" "costs" "$3.50," "doesn't" "it?"]
}

func ExampleBucketedExactMatch() {
	b := metrics.NewBucketedExactMatch(nil)
	b.Add(8, true)
	b.Add(35, false)
	b.Add(36, true)
	for _, name := range metrics.LengthBuckets(nil) {
		if c, n := b.Count(name); n > 0 {
			fmt.Printf("test/exact_match/%s = %d/%d\n", name, c, n)
		}
	}
	// Output:
	// test/exact_match/len_1_10 = 1/1
	// test/exact_match/len_21_40 = 1/2
}

func ExampleAlignmentHits() {
	// Attention of a reverse model: 3 source tokens, 4 decoder steps (the
	// last emits EOS), in a padded [1, 5, 4] buffer.
	w := []float32{
		0.1, 0.1, 0.8, 0,
		0.2, 0.7, 0.1, 0,
		0.3, 0.6, 0.1, 0,
		0.4, 0.3, 0.3, 0,
		0, 0, 0, 0,
	}
	rows := metrics.Foci(metrics.Rows(w, 1, 5, 4, []int{4}, []int{3}))
	hits, n := metrics.AlignmentHits(rows, metrics.IdealPositions("reverse", len(rows), 3))
	h, _ := metrics.MeanEntropy(rows)
	fmt.Printf("alignment %d/%d, entropy %.3f nats\n", hits, n, h)
	// Output:
	// alignment 2/3, entropy 0.857 nats
}

func ExampleWelchTTest() {
	additive := []float64{0.912, 0.905, 0.921}
	dot := []float64{0.897, 0.903, 0.889}
	m, s := metrics.MeanStd(additive)
	t, p := metrics.WelchTTest(additive, dot)
	fmt.Printf("%.3f ± %.3f, t = %.2f, p = %.3f\n", m, s, t, p)
	// Output:
	// 0.913 ± 0.008, t = 2.65, p = 0.058
}

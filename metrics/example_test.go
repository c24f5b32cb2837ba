package metrics_test

import (
	"fmt"
	"strings"

	"github.com/attnlab/attnlab/metrics"
)

func ExampleCorpusBLEU() {
	hyps := [][]string{strings.Fields("the cat sat on the mat")}
	refs := [][][]string{{strings.Fields("the cat sat on the mat"), strings.Fields("a cat was on the mat")}}
	fmt.Printf("%.4f\n", metrics.CorpusBLEU(hyps, refs))
	hyps = [][]string{strings.Fields("the cat sat on a mat")}
	fmt.Printf("%.4f\n", metrics.CorpusBLEU(hyps, refs))
	// Output:
	// 1.0000
	// 0.5623
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
	rows := metrics.Rows(w, 1, 5, 4, []int{4}, []int{3})
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

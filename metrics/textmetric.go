package metrics

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// TextMetric is a corpus metric of decoded outputs against their
// references, as text. Every sequence-to-sequence run computes each
// registered TextMetric on its decoded test split and records it as
// test/NAME, and Describe describes that key from the fields below: a new
// metric of this kind is one file that registers it in init (and its
// test), nothing else — the comparison table, its direction and star,
// --where and the help follow.
//
//	func init() {
//		metrics.RegisterTextMetric(metrics.TextMetric{
//			Name: "len_ratio", Doc: "total output length over total reference length, in characters",
//			Direction: metrics.NoDirection, Scale: metrics.Scale{Min: 0, Max: math.Inf(1)},
//			Score: lenRatio,
//		})
//	}
//
// The built-in text metrics (BLEU, chrF) have settings and signatures of
// their own and are computed by package runs directly.
type TextMetric struct {
	// Name is the key's second segment: test/NAME. It must be a metric
	// name no other metric has (lower case letters, digits, '_', '+').
	Name      string
	Doc       string // one line: what the value is
	Direction Direction
	Scale     Scale
	// Score returns the metric of outputs[i] against refs[i], both
	// detokenized text; len(outputs) == len(refs), possibly 0. It must be
	// safe for concurrent use. NaN means the value does not exist.
	Score func(outputs, refs []string) float64
}

var (
	textMu      sync.RWMutex
	textMetrics []TextMetric // sorted by name
)

// RegisterTextMetric adds m to the text metrics, normally from an init
// function. It panics — a programmer's error — on a name that is empty,
// badly formed or already a metric's, or a nil Score.
func RegisterTextMetric(m TextMetric) {
	if !metricName.MatchString(m.Name) {
		panic(fmt.Sprintf("metrics: RegisterTextMetric: bad name %q", m.Name))
	}
	if m.Score == nil {
		panic(fmt.Sprintf("metrics: RegisterTextMetric %q: nil Score", m.Name))
	}
	textMu.Lock()
	defer textMu.Unlock()
	taken := slices.ContainsFunc(table, func(t metric) bool { return t.name == m.Name }) ||
		slices.ContainsFunc(textMetrics, func(t TextMetric) bool { return t.Name == m.Name })
	if taken {
		panic(fmt.Sprintf("metrics: RegisterTextMetric: %q is already a metric", m.Name))
	}
	textMetrics = append(textMetrics, m)
	slices.SortFunc(textMetrics, func(a, b TextMetric) int { return strings.Compare(a.Name, b.Name) })
}

// UnregisterTextMetric removes the text metric of that name, which a
// test registered for itself, so that later tests (and the processes they
// start, which do not register it) see the same metrics. It panics if no
// text metric has the name.
func UnregisterTextMetric(name string) {
	textMu.Lock()
	defer textMu.Unlock()
	i := slices.IndexFunc(textMetrics, func(t TextMetric) bool { return t.Name == name })
	if i < 0 {
		panic(fmt.Sprintf("metrics: UnregisterTextMetric: no text metric %q", name))
	}
	textMetrics = slices.Delete(textMetrics, i, i+1)
}

// TextMetrics returns the registered text metrics, sorted by name. It is
// safe for concurrent use.
func TextMetrics() []TextMetric {
	textMu.RLock()
	defer textMu.RUnlock()
	return slices.Clone(textMetrics)
}

// textEntries returns the registered text metrics as entries of the
// descriptor table: quality metrics of the test split.
func textEntries() []metric {
	var out []metric
	for _, m := range TextMetrics() {
		out = append(out, metric{name: m.Name, splits: []string{"test"}, doc: m.Doc, dir: m.Direction, kind: Quality, scale: m.Scale})
	}
	return out
}

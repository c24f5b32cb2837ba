package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/metrics"
)

// newMetricsHelp is the help topic "attnlab help metrics": every metric
// key a run records, generated from metrics.All, the table that compare,
// early stopping and the dashboard read.
func newMetricsHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "metrics",
		Short: "The metric keys runs record: which way is better, kind, scale",
		Long:  metricsHelp(),
	}
}

// metricsHelp lists the metrics of metrics.All, one entry per metric name
// and description (a metric's per-bucket keys have their own):
// its keys, then its direction, kind, scale and doc, wrapped to pageWidth.
func metricsHelp() string {
	var b strings.Builder
	b.WriteString(`Metric keys, as --where, --metrics and --sort take them from the summaries, and
plot curves --metric and export --curves --metric from the histories (a name
after its '/' will do: bleu for test/bleu; where several splits have it,
test/ is taken, then valid/, then train/). train/loss and train/lr are
histories only. train.early_stopping.metric takes a valid/ key, in full.
valid/KEY in the summaries is the evaluation of the weights test/ is measured
on (the last, or the best when early stopping restored it); best/KEY is KEY at
the best evaluation (best/step). Kinds: quality metrics are starred and tested
against a baseline; costs (time, memory, steps taken) are shown as mean ± std
only, unless compare --test-cost; constants of the configuration are never
tested.

`)
	type entry struct {
		keys []string
		d    metrics.Descriptor
	}
	var entries []*entry
	byName := map[string]*entry{}
	for _, d := range metrics.All() {
		e := byName[d.Name+"\x00"+d.Doc] // per-bucket keys have their own doc
		if e == nil {
			e = &entry{d: d}
			byName[d.Name+"\x00"+d.Doc] = e
			entries = append(entries, e)
		}
		e.keys = append(e.keys, d.Key)
	}
	slices.SortStableFunc(entries, func(a, b *entry) int { return strings.Compare(a.d.Name, b.d.Name) })
	for _, e := range entries {
		for i, l := range wrap(strings.Join(e.keys, ", "), pageWidth) {
			if i > 0 {
				l = "  " + l
			}
			b.WriteString(l + "\n")
		}
		better := "no direction"
		switch e.d.Direction {
		case metrics.HigherIsBetter:
			better = "higher is better"
		case metrics.LowerIsBetter:
			better = "lower is better"
		}
		text := fmt.Sprintf("%s; %s; %s. %s.", better, e.d.Kind, e.d.Scale, e.d.Doc)
		for _, l := range wrap(text, pageWidth-4) {
			b.WriteString("    " + l + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

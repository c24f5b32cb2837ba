package main

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/experiments"
)

// TestNumberParamsHaveRanges: every number parameter of every plugin
// (tasks, models, encoders, attention, optimizers, schedules, ...) carries
// a range tag, so that attnlab list shows what it allows (dropout [0, 1),
// lr > 0, ...) and a value outside is refused with the others when the
// file is decoded, not only by Validate's first complaint. pairs'
// fractions have none: with valid_path (test_path) set, Validate has
// always ignored valid_fraction (test_fraction), so a tag would refuse
// stored runs that set both.
func TestNumberParamsHaveRanges(t *testing.T) {
	exempt := map[string]bool{"task pairs.valid_fraction": true, "task pairs.test_fraction": true}
	seen := map[string]bool{}
	for _, site := range experiments.Sites {
		for _, info := range site.Catalog.Infos() {
			for _, p := range info.Params {
				key := info.Kind + " " + info.Name + "." + p.Name
				number := strings.Contains(p.Type, "float") || strings.Contains(p.Type, "int")
				if seen[key] || !number || p.Range != "" || exempt[key] {
					continue
				}
				seen[key] = true
				t.Errorf("%s %q: parameter %s (%s) has no range tag", info.Kind, info.Name, p.Name, p.Type)
			}
		}
	}
}

package tasks_test

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// TestNumberParamsHaveRanges: every number parameter of a task carries a
// range tag, so that attnlab list shows what it allows (valid_fraction
// [0, 1), ...) and a value outside is refused with the others when the
// file is decoded, not only by Validate's first complaint. pairs'
// fractions have none: with valid_path (test_path) set, Validate has
// always ignored valid_fraction (test_fraction), so a tag would refuse
// stored runs that set both.
func TestNumberParamsHaveRanges(t *testing.T) {
	t.Parallel()
	exempt := map[string]bool{"pairs.valid_fraction": true, "pairs.test_fraction": true}
	for _, info := range tasks.Registry.Infos() {
		for _, p := range info.Params {
			number := strings.Contains(p.Type, "float") || strings.Contains(p.Type, "int")
			if number && p.Range == "" && !exempt[info.Name+"."+p.Name] {
				t.Errorf("task %q: parameter %s (%s) has no range tag", info.Name, p.Name, p.Type)
			}
		}
	}
}

// TestRangeTagsRefuseEveryBadValue: the fractions' range tags refuse
// their out-of-range values together, each on its key, when decoded.
func TestRangeTagsRefuseEveryBadValue(t *testing.T) {
	t.Parallel()
	info, err := tasks.Registry.Info("text")
	if err != nil {
		t.Fatal(err)
	}
	_, err = info.Decode(map[string]any{"path": "x.txt", "valid_fraction": 1.0, "test_fraction": -0.5}, registry.DecodeOptions{NoValidate: true})
	got := ""
	if err != nil {
		got = err.Error()
	}
	for _, want := range []string{"valid_fraction: must be in [0, 1), got 1", "test_fraction: must be in [0, 1), got -0.5"} {
		if !strings.Contains(got, want) {
			t.Errorf("decode of two bad fractions: %q, want it to contain %q", got, want)
		}
	}
}

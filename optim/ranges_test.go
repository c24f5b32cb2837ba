package optim_test

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/optim"
	"github.com/attnlab/attnlab/registry"
)

// TestFloatParamsHaveRanges: every float parameter of an optimizer or a
// schedule carries a range tag, so that attnlab list shows what it allows
// (lr > 0, momentum [0, 1), ...) and a value outside is refused with the
// others when the file is decoded, not only by Validate's first complaint.
func TestFloatParamsHaveRanges(t *testing.T) {
	for _, cat := range []registry.Catalog{optim.Registry, optim.Schedules} {
		for _, info := range cat.Infos() {
			for _, p := range info.Params {
				if strings.Contains(p.Type, "float") && p.Range == "" {
					t.Errorf("%s %q: parameter %s (%s) has no range tag", info.Kind, info.Name, p.Name, p.Type)
				}
			}
		}
	}
}

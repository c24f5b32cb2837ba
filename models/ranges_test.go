package models_test

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/registry"
)

// TestNumberParamsHaveRanges: every number parameter of a model or an
// encoder carries a range tag (dropout [0, 1), ...), so that attnlab list
// shows what it allows and a value outside is refused with the others
// when the file is decoded, not only by Validate's first complaint.
func TestNumberParamsHaveRanges(t *testing.T) {
	for _, cat := range []registry.Catalog{models.Registry, models.Encoders} {
		for _, info := range cat.Infos() {
			for _, p := range info.Params {
				if (strings.Contains(p.Type, "float") || strings.Contains(p.Type, "int")) && p.Range == "" {
					t.Errorf("%s %q: parameter %s (%s) has no range tag", info.Kind, info.Name, p.Name, p.Type)
				}
			}
		}
	}
}

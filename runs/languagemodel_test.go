package runs

import (
	"testing"

	"github.com/attnlab/attnlab/store"
)

// TestLanguageModel: a run is a language model's when its task has the
// tasks.LanguageModel capability, whatever its samples hold.
func TestLanguageModel(t *testing.T) {
	for _, tc := range []struct {
		config string
		want   bool
	}{
		{`{"task":{"name":"text","path":"a.txt"}}`, true},
		{`{"task":{"name":"reverse"}}`, false},
		{`{"task":{"name":"no-such-task"}}`, false},
		{`{}`, false},
		{`not json`, false},
	} {
		if got := LanguageModel(store.Run{Config: tc.config}); got != tc.want {
			t.Errorf("LanguageModel(config %s) = %v, want %v", tc.config, got, tc.want)
		}
	}
}

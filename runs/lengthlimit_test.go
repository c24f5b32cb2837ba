package runs

import (
	"testing"

	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/tasks"
)

// TestCheckLengthLimit: a run refuses a model whose max_len is shorter
// than its data's batches, as a worker would see it (the data not checked
// when the experiment was loaded in its process), and accepts max_len 0
// (sized from the task) or a long enough one.
func TestCheckLengthLimit(t *testing.T) {
	info, err := models.Registry.Info("seq2seq-transformer")
	if err != nil {
		t.Fatal(err)
	}
	data := &tasks.Dataset{Train: tasks.ListOf([]tasks.Example{{Src: make([]int, 3), Tgt: make([]int, 2)}}), Test: tasks.ListOf([]tasks.Example{{Src: make([]int, 9), Tgt: make([]int, 4)}})}
	err = checkLengthLimit(info, map[string]any{"max_len": 4}, data)
	want := "model.max_len 4 is shorter than the task's sequences (up to 9 positions): set it to at least 9, or to 0 to size the model from the task"
	if err == nil || err.Error() != want {
		t.Errorf("max_len 4, a test source of 9 tokens: %v, want %s", err, want)
	}
	for _, n := range []int{0, 9} {
		if err := checkLengthLimit(info, map[string]any{"max_len": n}, data); err != nil {
			t.Errorf("max_len %d: %v", n, err)
		}
	}
}

package tasks_test

import (
	"encoding/json"
	"fmt"

	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tasks"
)

func ExampleBuild() {
	d, err := tasks.Build("reverse", map[string]any{"min_len": 3, "max_len": 6, "train_size": 100}, tasks.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	e := d.Train.At(0)
	fmt.Println(d.SrcTok.Join(d.SrcVocab.Decode(e.Src)), "→", d.TgtTok.Join(d.TgtVocab.Decode(e.Tgt)))
	fmt.Println(d.Train.Len(), d.Valid.Len(), d.Test.Len(), d.Alignment)

	_, err = tasks.Build("reverse", map[string]any{"min_len": 0}, tasks.Options{})
	fmt.Println(err)
	// Output:
	// jifb → bfij
	// 100 500 1000 reverse
	// min_len: must be in [1, 10000], got 0 for task "reverse"
}

func ExampleMakeBatch() {
	ex := []tasks.Example{{Src: []int{4, 5, 6}, Tgt: []int{7, 8}}, {Src: []int{9}, Tgt: []int{10}}}
	b := tasks.MakeBatch(tasks.ListOf(ex), []int{0, 1}, false)
	fmt.Println("Src", b.Src, "S", b.S)
	fmt.Println("In ", b.In, "T", b.T)
	fmt.Println("Out", b.Out, "Tokens", b.Tokens)
	// Output:
	// Src [4 5 6 9 0 0] S 3
	// In  [1 7 8 1 10 0] T 3
	// Out [7 8 2 10 2 0] Tokens 5
}

func ExampleBatcher() {
	d, _ := tasks.Build("copy", map[string]any{"train_size": 10, "valid_size": 0, "test_size": 0}, tasks.Options{Seed: 1})
	b, _ := tasks.NewBatcher(d.Train, d.LM, tasks.BatcherConfig{Size: 4, Seed: 1})
	for epoch := range 2 {
		for batch, ok := b.Next(); ok; batch, ok = b.Next() {
			fmt.Println(epoch, batch.Index)
		}
	}
	// Resume from a saved state: the same batches follow.
	saved, _ := json.Marshal(b.State())
	var st tasks.BatcherState
	_ = json.Unmarshal(saved, &st)
	r, _ := tasks.NewBatcher(d.Train, d.LM, tasks.BatcherConfig{Size: 4, Seed: 1})
	_ = r.Restore(st)
	x, _ := b.Next()
	y, _ := r.Next()
	fmt.Println(r.Epoch(), x.Index, y.Index)
	// Output:
	// 0 [2 6]
	// 0 [9 4 8 7]
	// 0 [0 1 3 5]
	// 1 [0 1 3 5]
	// 1 [2 6]
	// 1 [9 4 8 7]
	// 2 [0 3 1 5] [0 3 1 5]
}

func ExampleSpec() {
	d, _ := tasks.Build("scan", nil, tasks.Options{Seed: 1})
	saved, _ := json.Marshal(d.Spec())
	var s tasks.Spec
	_ = json.Unmarshal(saved, &s)
	ids := s.EncodeInput("walk twice")
	fmt.Println(len(ids), s.DecodeOutput([]int{s.TgtVocab.ID("I_WALK"), s.TgtVocab.ID("I_WALK"), seq.EOSID, seq.PadID}))
	// Output:
	// 2 I_WALK I_WALK
}

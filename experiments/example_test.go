package experiments_test

import (
	"errors"
	"fmt"

	"github.com/attnlab/attnlab/experiments"
)

func ExampleLoad() {
	x, err := experiments.Load("testdata/good/quickstart.yaml", []string{"seeds=[1]"})
	if err != nil {
		fmt.Println(err)
		return
	}
	runs, err := x.Plan()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x.Name, "-", x.Description)
	for _, r := range runs {
		fmt.Println(r.Index, r.Seed, r.Label)
	}
	fmt.Println(experiments.VaryingKeys(runs))
	// Output:
	// quickstart - attention vs none on reverse
	// 0 1 model.attention.name=none train.optimizer.lr=0.001
	// 1 1 model.attention.name=dot train.optimizer.lr=0.001
	// 2 1 model.attention.name=dot train.optimizer.lr=0.0003
	// 3 1 model.attention.name=additive train.optimizer.lr=0.001
	// 4 1 model.attention.name=additive train.optimizer.lr=0.0003
	// [model.attention.context model.attention.dim model.attention.name train.optimizer.lr]
}

func ExampleErrors() {
	_, err := experiments.Load("testdata/bad/bad_seeds.yaml", []string{"train.batch_size=0"})
	fmt.Println(err)
	var ce *experiments.ConfigError
	if errors.As(err, &ce) {
		fmt.Printf("first: file %s, line %d, key %s\n", ce.File, ce.Line, ce.Key)
	}
	// Output:
	// testdata/bad/bad_seeds.yaml:3: seeds[1]: must not be negative, got -2
	// testdata/bad/bad_seeds.yaml:3: seeds[2]: seed 1 is listed twice
	// testdata/bad/bad_seeds.yaml:3: seeds[3]: want int, got string "x"
	// testdata/bad/bad_seeds.yaml:3: seeds[4]: want int, got float 2.5
	// --set: train.batch_size: must be in [1, 65536], got 0
	// first: file testdata/bad/bad_seeds.yaml, line 3, key seeds[1]
}

package tasks

import (
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/attnlab/attnlab/registry"
)

// ScanParams are the parameters of the scan task, the SCAN command language
// of Lake & Baroni (2018), "Generalization without systematicity". Every
// one of the 20,910 commands of the grammar is generated with its meaning;
// split chooses how they are divided between train and test, and
// valid_fraction of the training commands are held out for validation.
type ScanParams struct {
	Split            string  `yaml:"split" doc:"simple (random 80/20), length (train: ≤ 22 actions, test: ≥ 24), addprim_jump or addprim_turn_left"`
	ValidFraction    float64 `yaml:"valid_fraction" doc:"fraction of the training commands held out as the valid split" range:"[0,1)"`
	PrimitiveRepeats int     `yaml:"primitive_repeats" doc:"addprim splits: copies of the bare primitive command in train" range:"[1,100000]"`
}

// ScanSplits are the values of ScanParams.Split.
var ScanSplits = []string{"simple", "length", "addprim_jump", "addprim_turn_left"}

func defaultScanParams() *ScanParams {
	return &ScanParams{Split: "simple", ValidFraction: 0.05, PrimitiveRepeats: 1}
}

// Validate checks the split name and the ranges.
func (p *ScanParams) Validate() error {
	if !slices.Contains(ScanSplits, p.Split) {
		return registry.Invalid("split", "unknown split %q (known: %s)", p.Split, strings.Join(ScanSplits, ", "))
	}
	if !(p.ValidFraction >= 0 && p.ValidFraction < 1) {
		return registry.Invalid("valid_fraction", "must be in [0, 1), got %g", p.ValidFraction)
	}
	if p.PrimitiveRepeats < 1 || p.PrimitiveRepeats > 100_000 {
		return registry.Invalid("primitive_repeats", "must be in [1, 100000], got %d", p.PrimitiveRepeats)
	}
	// A valid_fraction that holds out every training command leaves an
	// empty train split, which no run can train on.
	train, _, prim := scanPartition(scanCommands(), p.Split)
	if len(train)-scanValidCount(p.ValidFraction, len(train))+len(prim) == 0 {
		return registry.Invalid("valid_fraction", "%g of split %s's %d training commands leaves none to train on: lower valid_fraction", p.ValidFraction, p.Split, len(train))
	}
	return nil
}

// ValidExamples returns the validation commands valid_fraction holds out
// of the split's training commands.
func (p *ScanParams) ValidExamples() int {
	train, _, _ := scanPartition(scanCommands(), p.Split)
	return scanValidCount(p.ValidFraction, len(train))
}

// SplitExamples returns the commands of each split: train's less the
// validation commands, plus primitive_repeats copies of an addprim
// split's bare primitive.
func (p *ScanParams) SplitExamples() (train, valid, test int) {
	tr, te, prim := scanPartition(scanCommands(), p.Split)
	valid = scanValidCount(p.ValidFraction, len(tr))
	return len(tr) - valid + len(prim)*p.PrimitiveRepeats, valid, len(te)
}

// scanCommands is ScanCommands, built once; callers must not modify it.
var scanCommands = sync.OnceValue(ScanCommands)

// scanValidCount returns the validation commands held out of n training
// commands: round(valid_fraction·n).
func scanValidCount(validFraction float64, n int) int {
	return int(math.Round(validFraction * float64(n)))
}

// scanPartition divides all by split (see newScan) into the training
// commands, the test commands and the bare primitive of an addprim split,
// in the order of all (the simple split takes its test commands from the
// front: shuffle all first). The slices are new; their commands are
// shared with all.
func scanPartition(all []ScanCommand, split string) (train, test, prim []ScanCommand) {
	switch split {
	case "simple":
		nTest := int(math.Round(0.2 * float64(len(all))))
		test, train = slices.Clone(all[:nTest]), slices.Clone(all[nTest:])
	case "length":
		for _, c := range all {
			if len(c.Actions) <= 22 {
				train = append(train, c)
			} else if len(c.Actions) >= 24 {
				test = append(test, c)
			}
		}
	case "addprim_jump", "addprim_turn_left":
		words := strings.Fields(strings.ReplaceAll(strings.TrimPrefix(split, "addprim_"), "_", " "))
		for _, c := range all {
			switch {
			case slices.Equal(c.Command, words):
				prim = append(prim, c)
			case containsWords(c.Command, words):
				test = append(test, c)
			default:
				train = append(train, c)
			}
		}
	}
	return train, test, prim
}

func init() {
	Registry.Register(Entry{
		Name:   "scan",
		Doc:    "SCAN commands to actions (Lake & Baroni 2018): walk after run left → I_TURN_LEFT I_RUN I_WALK",
		Params: defaultScanParams(),
		New:    newScan,
	})
}

// ScanCommand is one SCAN command and its meaning, both as words.
type ScanCommand struct {
	Command []string
	Actions []string
}

// ScanCommands returns every command of the SCAN grammar with its meaning,
// in a fixed order:
//
//	C → S | S and S | S after S
//	S → V | V twice | V thrice
//	V → U | D | X opposite L | X around L      X ∈ {U, turn}, L ∈ {left, right}
//	D → U left | U right | turn left | turn right
//	U → walk | look | run | jump
func ScanCommands() []ScanCommand {
	var v []ScanCommand
	prims := []string{"walk", "look", "run", "jump"}
	dirs := []string{"left", "right"}
	turn := func(l string) string { return "I_TURN_" + strings.ToUpper(l) }
	act := func(u string) string { return "I_" + strings.ToUpper(u) }
	for _, u := range prims {
		v = append(v, ScanCommand{[]string{u}, []string{act(u)}})
	}
	for _, x := range append(slices.Clone(prims), "turn") {
		for _, l := range dirs {
			// ⟦x⟧ after a turn: nothing for "turn".
			var tail []string
			if x != "turn" {
				tail = []string{act(x)}
			}
			one := append([]string{turn(l)}, tail...)
			opposite := append([]string{turn(l), turn(l)}, tail...)
			var around []string
			for range 4 {
				around = append(around, one...)
			}
			v = append(v,
				ScanCommand{[]string{x, l}, one},
				ScanCommand{[]string{x, "opposite", l}, opposite},
				ScanCommand{[]string{x, "around", l}, around})
		}
	}
	var s []ScanCommand
	for _, c := range v {
		s = append(s, c,
			ScanCommand{append(slices.Clone(c.Command), "twice"), repeat(c.Actions, 2)},
			ScanCommand{append(slices.Clone(c.Command), "thrice"), repeat(c.Actions, 3)})
	}
	out := slices.Clone(s)
	for _, a := range s {
		for _, b := range s {
			out = append(out,
				ScanCommand{join3(a.Command, "and", b.Command), concat(a.Actions, b.Actions)},
				ScanCommand{join3(a.Command, "after", b.Command), concat(b.Actions, a.Actions)})
		}
	}
	return out
}

func repeat(xs []string, n int) []string {
	out := make([]string, 0, n*len(xs))
	for range n {
		out = append(out, xs...)
	}
	return out
}

func concat(a, b []string) []string {
	return append(slices.Clone(a), b...)
}

func join3(a []string, mid string, b []string) []string {
	return concat(append(slices.Clone(a), mid), b)
}

// containsWords reports whether the words sub occur contiguously in ws.
func containsWords(ws, sub []string) bool {
	for i := 0; i+len(sub) <= len(ws); i++ {
		if slices.Equal(ws[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// newScan builds the scan task. The splits:
//
//   - simple: a seeded random 80/20 train/test split of all commands;
//   - length: train holds the commands whose meaning has at most 22 actions,
//     test those with at least 24 (no command has exactly 23);
//   - addprim_jump: train holds every command without "jump" plus the bare
//     command "jump" (primitive_repeats times); test every other command
//     with "jump";
//   - addprim_turn_left: the same for the words "turn left".
//
// Valid is a seeded random valid_fraction of the training commands (never
// the bare primitive of an addprim split), removed from train.
func newScan(params any, opt Options) (*Dataset, error) {
	p := paramsOf(params, defaultScanParams())
	if err := p.Validate(); err != nil {
		return nil, err
	}
	r := newRand(opt.Seed, "scan/"+p.Split)
	all := ScanCommands() // its own: the pairs share the commands' slices
	if p.Split == "simple" {
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	}
	train, test, prim := scanPartition(all, p.Split)
	r.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
	nValid := scanValidCount(p.ValidFraction, len(train))
	valid := train[:nValid]
	train = train[nValid:]
	for _, c := range prim {
		for range p.PrimitiveRepeats {
			train = append(train, c)
		}
	}
	var splits [3][]pair
	for s, cs := range [3][]ScanCommand{train, valid, test} {
		for _, c := range cs {
			splits[s] = append(splits[s], pair{src: c.Command, tgt: c.Actions})
		}
	}
	src := BuildVocab(sideTokens(splits[splitTrain], true), 1, 0)
	tgt := BuildVocab(sideTokens(splits[splitTrain], false), 1, 0)
	return dataset("scan", splits, src, tgt, Word{}, Word{}, ""), nil
}

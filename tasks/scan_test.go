package tasks

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestScanGrammar(t *testing.T) {
	t.Parallel()
	all := ScanCommands()
	meaning := make(map[string]string, len(all))
	for _, c := range all {
		meaning[strings.Join(c.Command, " ")] = strings.Join(c.Actions, " ")
	}
	if len(all) != 20910 || len(meaning) != 20910 {
		t.Fatalf("ScanCommands() = %d commands, %d distinct; want 20910", len(all), len(meaning))
	}
	// Lines of the SCAN data set and of Lake & Baroni (2018), Table 1.
	for _, tc := range []struct{ cmd, want string }{
		{"jump opposite right twice and turn left", "I_TURN_RIGHT I_TURN_RIGHT I_JUMP I_TURN_RIGHT I_TURN_RIGHT I_JUMP I_TURN_LEFT"},
		{"walk after run left", "I_TURN_LEFT I_RUN I_WALK"},
		{"jump", "I_JUMP"},
		{"jump left", "I_TURN_LEFT I_JUMP"},
		{"jump around right", "I_TURN_RIGHT I_JUMP I_TURN_RIGHT I_JUMP I_TURN_RIGHT I_JUMP I_TURN_RIGHT I_JUMP"},
		{"turn left twice", "I_TURN_LEFT I_TURN_LEFT"},
		{"jump thrice", "I_JUMP I_JUMP I_JUMP"},
		{"jump opposite left and walk thrice", "I_TURN_LEFT I_TURN_LEFT I_JUMP I_WALK I_WALK I_WALK"},
		{"jump opposite left after walk around left", "I_TURN_LEFT I_WALK I_TURN_LEFT I_WALK I_TURN_LEFT I_WALK I_TURN_LEFT I_WALK I_TURN_LEFT I_TURN_LEFT I_JUMP"},
		{"turn opposite right", "I_TURN_RIGHT I_TURN_RIGHT"},
		{"turn around left", "I_TURN_LEFT I_TURN_LEFT I_TURN_LEFT I_TURN_LEFT"},
		{"look right thrice after turn right", "I_TURN_RIGHT I_TURN_RIGHT I_LOOK I_TURN_RIGHT I_LOOK I_TURN_RIGHT I_LOOK"},
	} {
		if got, ok := meaning[tc.cmd]; !ok || got != tc.want {
			t.Errorf("⟦%s⟧ = %q (found %v), want %q", tc.cmd, got, ok, tc.want)
		}
	}
}

func TestScanSplits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		split       string
		train, test int
		inTest      func(cmd string, actions int) bool
	}{
		{"simple", 16728, 4182, nil},
		{"length", 16990, 3920, func(_ string, n int) bool { return n >= 24 }},
		{"addprim_jump", 13204, 7706, func(c string, _ int) bool { return slices.Contains(strings.Fields(c), "jump") }},
		{"addprim_turn_left", 19702, 1208, func(c string, _ int) bool { return strings.Contains(" "+c+" ", " turn left ") }},
	} {
		t.Run(tc.split, func(t *testing.T) {
			d := build(t, "scan", map[string]any{"split": tc.split}, 5)
			if got := d.Train.Len() + d.Valid.Len(); got != tc.train || d.Test.Len() != tc.test {
				t.Fatalf("train+valid, test = %d, %d; want %d, %d", got, d.Test.Len(), tc.train, tc.test)
			}
			if want := (tc.train - 1) / 20; d.Valid.Len() < want || d.Valid.Len() > want+1 {
				t.Errorf("valid = %d, want 5%% of train ≈ %d", d.Valid.Len(), want)
			}
			if tc.inTest == nil {
				return
			}
			for _, s := range []string{"train", "valid", "test"} {
				split, _ := d.Split(s)
				ex := split.All()
				src, _ := texts(d, ex)
				for i, c := range src {
					bare := "addprim_"+strings.ReplaceAll(c, " ", "_") == tc.split
					if got := tc.inTest(c, len(ex[i].Tgt)); got != (s == "test") && !(bare && s == "train") {
						t.Fatalf("%s holds %q (%d actions)", s, c, len(ex[i].Tgt))
					}
					if bare && s != "train" {
						t.Fatalf("the bare primitive %q is in %s", c, s)
					}
				}
			}
		})
	}
	d := build(t, "scan", map[string]any{"split": "addprim_jump", "primitive_repeats": 5, "valid_fraction": 0}, 5)
	n := 0
	for _, e := range d.Train.All() {
		if d.SrcTok.Join(d.SrcVocab.Decode(e.Src)) == "jump" {
			n++
		}
	}
	if n != 5 || d.Train.Len() != 13208 || d.Valid.Len() != 0 {
		t.Fatalf("primitive_repeats 5: %d copies of jump in %d training commands and %d valid, want 5 in 13208 and 0", n, d.Train.Len(), d.Valid.Len())
	}
}

// TestScanValidFractionLeavesNoTrain: a valid_fraction that holds out every
// training command is refused by Validate, naming the key, instead of
// failing each run at its start with an empty training split.
func TestScanValidFractionLeavesNoTrain(t *testing.T) {
	for _, tc := range []struct {
		split string
		vf    float64
		ok    bool
	}{
		{"simple", 0.99999, false},
		{"length", 0.99999, false},
		{"simple", 0.999, true},
		{"addprim_jump", 0.99999, true}, // the bare primitive stays in train
	} {
		t.Run(fmt.Sprintf("%s/%g", tc.split, tc.vf), func(t *testing.T) {
			p := &ScanParams{Split: tc.split, ValidFraction: tc.vf, PrimitiveRepeats: 1}
			err := p.Validate()
			if tc.ok {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				d, err := newScan(p, Options{Seed: 1})
				if err != nil {
					t.Fatalf("newScan: %v", err)
				}
				if d.Train.Len() == 0 {
					t.Fatalf("Validate() accepted valid_fraction %g, but the train split is empty", tc.vf)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "valid_fraction") || !strings.Contains(err.Error(), "none to train on") {
				t.Fatalf("Validate() = %v, want a valid_fraction error saying it leaves none to train on", err)
			}
		})
	}
}

// TestScanValidExamples: ValidExamples, which validation uses to refuse
// early stopping without a validation split, is the size of the valid
// split newScan builds.
func TestScanValidExamples(t *testing.T) {
	for _, split := range ScanSplits {
		for _, vf := range []float64{0, 0.00001, 0.05} {
			p := &ScanParams{Split: split, ValidFraction: vf, PrimitiveRepeats: 1}
			d, err := newScan(p, Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.ValidExamples(); got != d.Valid.Len() {
				t.Errorf("%s valid_fraction %g: ValidExamples() = %d, want %d", split, vf, got, d.Valid.Len())
			}
		}
	}
}

package experiments

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A held-out split's file that is the training file (the same path, or
// the same contents under another name) is a lint on its key, naming both
// keys and the files, before any run: runs only recorded it afterwards as
// test/src_in_train 1.
func TestHeldOutFileIsTrainingFile(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 60 {
		s := string(rune('a'+i%6)) + string(rune('a'+i%10)) + string(rune('a'+i%7))
		b.WriteString(s + "\t" + s + "\n")
	}
	for name, text := range map[string]string{"train.tsv": b.String(), "copy.tsv": b.String(), "held.tsv": "zz\tzz\nyy\tyy\n", "held2.tsv": "xx\txx\nww\tww\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, task string
		want       []string
	}{
		{"same path", "{name: pairs, path: train.tsv, test_path: train.tsv}", []string{
			`x.yaml:2: task.test_path: "train.tsv" is the same file as task.path ("train.tsv"): the test split would be training examples only; give a file of held-out pairs, or leave test_path out to draw the split`}},
		{"same contents", "{name: pairs, path: train.tsv, valid_path: copy.tsv, test_path: held.tsv}", []string{
			`x.yaml:2: task.valid_path: "copy.tsv" has the same contents as task.path ("train.tsv"): the valid split would be training examples only; give a file of held-out pairs, or leave valid_path out to draw the split`}},
		{"test is valid", "{name: pairs, path: train.tsv, valid_path: held.tsv, test_path: held.tsv}", []string{
			`x.yaml:2: task.test_path: "held.tsv" is the same file as task.valid_path ("held.tsv"): the test split would be the valid split's examples; give a file of held-out pairs, or leave test_path out to draw the split`}},
		{"test is valid and train", "{name: pairs, path: train.tsv, valid_path: copy.tsv, test_path: train.tsv}", []string{
			`x.yaml:2: task.test_path: "train.tsv" is the same file as task.path ("train.tsv"): the test split would be training examples only; give a file of held-out pairs, or leave test_path out to draw the split`,
			`x.yaml:2: task.valid_path: "copy.tsv" has the same contents as task.path ("train.tsv"): the valid split would be training examples only; give a file of held-out pairs, or leave valid_path out to draw the split`}},
		{"held out", "{name: pairs, path: train.tsv, test_path: held.tsv}", nil},
		{"both held out", "{name: pairs, path: train.tsv, valid_path: held2.tsv, test_path: held.tsv}", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "x.yaml")
			text := "name: x\ntask: " + tc.task + "\nmodel: {attention: {name: dot}}\ntrain: {steps: 10}\n"
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadWith(path, nil, LoadOptions{})
			var got []string
			if es, ok := err.(Errors); ok {
				for _, e := range es {
					e := *e
					e.File = "x.yaml"
					got = append(got, e.Error())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("errors = %q, want %q", got, tc.want)
			}
			if tc.want == nil {
				return
			}
			if !OnlyLint(err) {
				t.Errorf("OnlyLint(%v) = false, want a lint: stored runs resume", err)
			}
			if _, err := LoadWith(path, nil, LoadOptions{NoLint: true}); err != nil {
				t.Errorf("NoLint: %v, want it loaded", err)
			}
		})
	}
}

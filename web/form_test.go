package web

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestFormCLI: the command line the experiment page shows reaches the
// shell as the words of the form, whatever a field holds: spaces, quotes,
// $ and ; are quoted, plain words are left as they are.
func TestFormCLI(t *testing.T) {
	f := form{
		Where:    `model.attention.name = 'dot' and seed > 1; $HOME`,
		By:       "attention.name, ",
		Metrics:  "valid/loss",
		Status:   "any",
		NoAdjust: true,
	}
	got := f.cli("scan-2")
	want := `attnlab compare scan-2 --where 'model.attention.name = '\''dot'\'' and seed > 1; $HOME' --by attention.name --metrics valid/loss --status any --no-adjust`
	if got != want {
		t.Fatalf("cli() =\n%s\nwant\n%s", got, want)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	out, err := exec.Command(sh, "-c", `printf '%s\n' `+strings.TrimPrefix(got, "attnlab ")).Output()
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	wantWords := []string{"compare", "scan-2", "--where", f.Where, "--by", "attention.name", "--metrics", "valid/loss", "--status", "any", "--no-adjust"}
	if !slices.Equal(words, wantWords) {
		t.Errorf("sh reads %q\nwant %q", words, wantWords)
	}
	// Runs ticked on the page are in the line too, as --where takes them.
	f.Runs = []int64{3, 12}
	want = `attnlab compare scan-2 --where '(model.attention.name = '\''dot'\'' and seed > 1; $HOME) and id in (3, 12)' --by attention.name --metrics valid/loss --status any --no-adjust`
	if got := f.cli("scan-2"); got != want {
		t.Errorf("with runs ticked, cli() =\n%s\nwant\n%s", got, want)
	}
	if got, want := (form{Runs: []int64{7}}).cli("x"), `attnlab compare x --where 'id in (7)'`; got != want {
		t.Errorf("cli() = %s, want %s", got, want)
	}
}

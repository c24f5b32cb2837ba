package shell

import (
	"os/exec"
	"testing"
)

// TestQuote: a quoted word reaches a command as itself, whatever it holds;
// a plain one is left as it is.
func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"runs.db", "runs.db"},
		{"postgres://lab@db:5432/attnlab?sslmode=disable", "'postgres://lab@db:5432/attnlab?sslmode=disable'"},
		{"/tmp/my runs/runs.db", "'/tmp/my runs/runs.db'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
		{"$HOME;rm -rf x`id`", "'$HOME;rm -rf x`id`'"},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
		sh, err := exec.LookPath("sh")
		if err != nil {
			continue
		}
		out, err := exec.Command(sh, "-c", "printf %s "+Quote(tc.in)).Output()
		if err != nil || string(out) != tc.in {
			t.Errorf("sh -c 'printf %%s %s' = %q, %v; want %q", Quote(tc.in), out, err, tc.in)
		}
	}
}

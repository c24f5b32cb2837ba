package main

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/store"
)

func TestVersion(t *testing.T) {
	r := attnlab(t, "version")
	wantOK(t, r)
	want := fmt.Sprintf("attnlab %s\nbuild   %s (recorded with the runs it trains)\ngo      %s %s/%s\nschema  %d (run database)\n",
		version, runVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH, store.SchemaVersion)
	if r.stdout != want {
		t.Errorf("version:\n%s\nwant\n%s", r.stdout, want)
	}
	r = attnlab(t, "--version")
	wantOK(t, r)
	if r.stdout != "attnlab "+version+"\n" {
		t.Errorf("--version: %q", r.stdout)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{}, {"--help"}, {"help"}} {
		r := attnlab(t, args...)
		wantOK(t, r)
		for _, cmd := range []string{"run", "plan", "list", "ls", "show", "compare", "export", "plot", "generate", "version"} {
			if !strings.Contains(r.stdout, "\n  "+cmd+" ") {
				t.Errorf("attnlab %v: the help lacks %s\n%s", args, cmd, r.stdout)
			}
		}
	}
	r := attnlab(t, "generate", "--help")
	wantOK(t, r)
	for _, flag := range []string{"--input", "--stdin", "--beam", "--length-penalty", "--sample", "--temperature", "--top-k", "--top-p", "--seed", "--max-len", "--show-attention", "--db"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("generate --help lacks %s", flag)
		}
	}
}

// TestEveryCommandHasExample: every command a user runs shows at least one
// example command line in its --help (a command that only groups others,
// such as plot, and version, which takes nothing, need none).
func TestEveryCommandHasExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden { // and the commands under it (completion)
			return
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() || c.HasSubCommands() || c.Name() == "help" || c.Name() == "version" || c == c.Root() {
			return
		}
		if !strings.Contains(c.Example, "attnlab "+c.Name()) && !strings.Contains(c.Example, c.Parent().Name()+" "+c.Name()) {
			t.Errorf("%s --help has no example of the command (Example: %q)", c.CommandPath(), c.Example)
		}
	}
	walk(newRootCmd(&session{}))
}

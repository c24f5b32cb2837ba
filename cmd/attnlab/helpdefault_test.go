package main

import (
	"strings"
	"testing"
)

// TestListFlagHelpHasNoEmptyDefault: a list flag's help says what its
// default is in its own words ("default: every key that varies"); pflag
// added "(default [])" after it, which contradicted them.
func TestListFlagHelpHasNoEmptyDefault(t *testing.T) {
	root := newRootCmd(&session{})
	for _, c := range root.Commands() {
		paths := [][]string{{c.Name()}}
		for _, sub := range c.Commands() {
			paths = append(paths, []string{c.Name(), sub.Name()})
		}
		for _, p := range paths {
			r := attnlab(t, append(p, "--help")...)
			if strings.Contains(r.stdout, "(default [])") {
				t.Errorf("attnlab %s --help says (default []):\n%s", strings.Join(p, " "), r.stdout)
			}
		}
	}
}

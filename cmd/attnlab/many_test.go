package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/internal/testenv"
)

// TestReadmeManyMachines runs the command lines of README.md's "Many
// machines" section as written, against a PostgreSQL database of the test
// environment in place of the README's $ATTNLAB_DB, with these changes
// only: paths are relative to the repository's root, the runs are short
// (--set train.steps=60) and the worker takes one of them (--max-runs 1),
// sbatch is not called (--dry-run), the laptop's attnlab.db is the tests'
// shared database and other SQLite files are in a temporary directory.
func TestReadmeManyMachines(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	start, end := strings.Index(readme, "## Many machines"), strings.Index(readme, "## Packages")
	if start < 0 || end < start {
		t.Fatal("README.md lacks the Many machines section")
	}
	url := testenv.PostgresURL(t)
	dir := t.TempDir()
	laptop := sharedDB(t)
	var ran []string
	for _, line := range strings.Split(readme[start:end], "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "export ATTNLAB_DB=") {
			t.Setenv("ATTNLAB_DB", url)
			continue
		}
		if !strings.HasPrefix(line, "attnlab ") {
			continue
		}
		args := shellWords(t, strings.TrimPrefix(line, "attnlab "))
		for i, a := range args {
			switch {
			case a == "$ATTNLAB_DB":
				args[i] = url
			case strings.HasPrefix(a, "examples/"):
				args[i] = "../../" + a
			case a == "attnlab.db":
				args[i] = laptop
			case strings.HasSuffix(a, ".db"):
				args[i] = filepath.Join(dir, a)
			}
		}
		switch args[0] {
		case "submit":
			args = append(args, "--set", "train.steps=60")
		case "worker":
			args = append(args, "--max-runs", "1", "-q")
		case "slurm":
			if !slices.Contains(args, "--dry-run") {
				args = append(args, "--dry-run")
			}
		}
		r := attnlab(t, args...)
		if r.code != exitOK {
			t.Fatalf("README command attnlab %s: %v", line, r)
		}
		ran = append(ran, args[0])
	}
	for _, must := range []string{"submit", "worker", "ls", "compare", "slurm", "sync"} {
		if !slices.Contains(ran, must) {
			t.Errorf("the section has no attnlab %s line", must)
		}
	}
}

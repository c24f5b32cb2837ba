package main

import (
	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/internal/safeout"
)

// outputFlags are -o and --force of a command that writes a file.
type outputFlags struct {
	path  string
	force bool
}

// add adds -o (default def) and --force to cmd.
func (o *outputFlags) add(cmd *cobra.Command, def, usage string) {
	cmd.Flags().StringVarP(&o.path, "output", "o", def, usage+` ("-": stdout)`)
	cmd.Flags().BoolVar(&o.force, "force", false, "replace the output file if it exists (never a SQLite database such as the run database, or a non-regular file)")
}

// target is the destination of -o for a command that reads the run
// database db: db and its SQLite side files are never overwritten, by any
// name, nor any of the files in keep (the command's own inputs).
func (o *outputFlags) target(cmd *cobra.Command, db string, keep ...safeout.Keep) safeout.Target {
	t := safeout.Target{Path: o.path, Force: o.force, Stdout: rawWriter(cmd.OutOrStdout())}
	if db != "" {
		t.Keep = []safeout.Keep{
			{Path: db, What: "the run database"},
			{Path: db + "-wal", What: "the run database's write-ahead log"},
			{Path: db + "-shm", What: "the run database's shared-memory file"},
			{Path: db + "-journal", What: "the run database's journal"},
		}
	}
	t.Keep = append(t.Keep, keep...)
	return t
}

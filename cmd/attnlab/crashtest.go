//go:build attnlab_crashtest

package main

import "github.com/spf13/cobra"

// With the attnlab_crashtest build tag, "attnlab crash-test" panics in its
// command: the hostile-input corpus checks on the built binary that a bug
// gives one line, exit code 3 and a crash report.
func init() {
	testCommands = append(testCommands, func() *cobra.Command {
		return &cobra.Command{
			Use:    "crash-test",
			Hidden: true,
			RunE:   func(*cobra.Command, []string) error { panic("crash-test: deliberate bug\nsecond line") },
		}
	})
}

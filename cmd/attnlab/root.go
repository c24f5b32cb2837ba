package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/attnlab/attnlab/internal/floatlit"
	"github.com/attnlab/attnlab/internal/term"
	"github.com/attnlab/attnlab/store"
)

// version is attnlab's version; release builds set it with
// -ldflags "-X main.version=0.1.0".
var version = "0.1.0-dev"

// defaultDB is the run database used when --db is not given.
const defaultDB = "attnlab.db"

// session is the state of one command line: one per root command.
type session struct {
	// ran is set when a command's RunE starts; an error before that is
	// cobra's (flags, arguments) and so a usage error.
	ran bool
}

// newRootCmd builds the whole command tree. Every call returns a fresh
// tree with its own flags, so tests can run commands side by side.
func newRootCmd(s *session) *cobra.Command {
	root := &cobra.Command{
		Use:   "attnlab",
		Short: "A laboratory for attention mechanisms in text generation",
		Long: `attnlab trains and evaluates the runs of YAML experiments (a task, a model, an
attention variant, training settings, a sweep × seeds), stores everything in a
run database (a SQLite file, or PostgreSQL that many machines share), and
compares, plots and samples from the stored runs.

  attnlab plan exp.yaml            the runs a sweep would make
  attnlab run exp.yaml             train and evaluate them (rerun to resume)
  attnlab compare EXPERIMENT       mean ± std over seeds, per sweep point
  attnlab generate RUN --input ..  decode with a stored model
  attnlab submit / worker / slurm  queue runs, train them on many machines

The run database is --db, a file or a postgres:// URL; default $ATTNLAB_DB
or ./attnlab.db.`,
		Version:                    version,
		SilenceUsage:               true,
		SilenceErrors:              true,
		Args:                       cobra.ArbitraryArgs,
		RunE:                       groupRunE,
		CompletionOptions:          cobra.CompletionOptions{HiddenDefaultCmd: true},
		SuggestionsMinimumDistance: 2,
	}
	root.SetVersionTemplate("attnlab {{.Version}}\n")
	root.PersistentFlags().Int("width", 0, "lay tables out for this many columns (default: $COLUMNS, the terminal's width, or 100)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if n, _ := cmd.Flags().GetInt("width"); n < 0 {
			return usagef("--width %d: give a number of columns (0: the default)", n)
		}
		// A database flag given as "" (an unset shell variable) is a
		// mistake in the command line, not a database that fails to open.
		for _, name := range []string{"db", "from", "to"} {
			if f := cmd.Flags().Lookup(name); f != nil && f.Changed && strings.TrimSpace(f.Value.String()) == "" {
				return usagef("--%s %q: want a SQLite file or a postgres:// URL", name, f.Value.String())
			}
		}
		// So is a blank $ATTNLAB_DB, the default of --db (an empty one is
		// unset): it would be taken as the name of a file.
		if env := os.Getenv("ATTNLAB_DB"); env != "" && strings.TrimSpace(env) == "" {
			if f := cmd.Flags().Lookup("db"); f != nil && !f.Changed {
				return usagef("$ATTNLAB_DB %q: want a SQLite file or a postgres:// URL", env)
			}
		}
		return emptyListItem(cmd)
	}
	root.AddGroup(
		&cobra.Group{ID: "exp", Title: "Experiments:"},
		&cobra.Group{ID: "results", Title: "Results:"},
		&cobra.Group{ID: "other", Title: "Other commands:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("exp", newRunCmd(), newPlanCmd(), newSubmitCmd(), newWorkerCmd(), newSlurmCmd(), newBenchCmd())
	add("results", newSyncCmd(), newLsCmd(), newShowCmd(), newCompareCmd(), newExportCmd(), newPlotCmd(), newGenerateCmd(), newEvalCmd(), newServeCmd())
	add("other", newListCmd(), newRmCmd(), newGcCmd(), newVersionCmd())
	root.AddCommand(newMetricsHelp()) // a help topic: attnlab help metrics
	root.SetHelpCommandGroupID("other")
	// help is cobra's, added now (cobra adds it when it executes) so that
	// Find knows it, and refusing an unknown command as the command line
	// does: cobra's shows the root's help for attnlab help heatmap.
	root.InitDefaultHelpCmd()
	if help, _, err := root.Find([]string{"help"}); err == nil && help.Name() == "help" && help.Run != nil {
		run := help.Run
		help.RunE = func(c *cobra.Command, args []string) error {
			if cmd, rest, _ := c.Root().Find(args); cmd != nil {
				if err := misspelledCommand(cmd, rest); err != nil {
					return err
				}
			}
			run(c, args)
			return nil
		}
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{plainFlagError(err)} })
	markRun(root, s)
	return root
}

// markRun wraps the RunE of cmd and its subcommands so that s.ran is set
// when one starts.
func markRun(cmd *cobra.Command, s *session) {
	if f := cmd.RunE; f != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			s.ran = true
			return f(c, args)
		}
	}
	for _, c := range cmd.Commands() {
		markRun(c, s)
	}
}

// groupRunE runs a command that only groups subcommands: without arguments
// it shows the help; an argument is an unknown subcommand.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return unknownCommand(cmd, args[0])
}

// unknownCommand is the usage error for name, which names no subcommand of
// the group command cmd, with the commands it may have meant: close names
// among cmd's subcommands, and a subcommand of theirs named so or listing
// it in SuggestFor (heatmap: plot attention).
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q", name)
	sugg := cmd.SuggestionsFor(name)
	for _, c := range cmd.Commands() {
		for _, sub := range c.Commands() {
			if sub.Name() == name || slices.Contains(sub.SuggestFor, name) {
				sugg = append(sugg, c.Name()+" "+sub.Name())
			}
		}
	}
	if len(sugg) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(sugg, ", "))
	}
	return &usageError{fmt.Errorf("%s (see '%s --help')", msg, cmd.CommandPath())}
}

// misspelledCommand returns unknownCommand's error when args, as found
// under cmd (cobra's Find), give a group command a first positional
// argument before any flag it does not know: that can only be an unknown
// subcommand. It is checked before cobra parses flags, which would
// otherwise report the subcommand's flags as unknown (attnlab heatmap 3
// --db x: "unknown flag: --db") or show the group's help for a --help
// meant for the subcommand. A flag the group does not know, before any
// positional argument, is left to cobra to name.
func misspelledCommand(cmd *cobra.Command, args []string) error {
	if !cmd.HasAvailableSubCommands() || cmd.Name() == "help" {
		return nil
	}
	cmd.InitDefaultHelpFlag()
	cmd.InitDefaultVersionFlag()
	sets := []*pflag.FlagSet{cmd.Flags(), cmd.InheritedFlags()}
	if cmd.HasParent() {
		// A group below the root (plot): its subcommands' flags, which
		// they all take alike (plot --db x attention 3), may come first.
		for _, c := range cmd.Commands() {
			sets = append(sets, c.Flags())
		}
	}
	lookup := func(name string, short bool) *pflag.Flag {
		for _, fs := range sets {
			f := fs.Lookup(name)
			if short {
				f = fs.ShorthandLookup(name)
			}
			if f != nil {
				return f
			}
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return nil
		case strings.HasPrefix(a, "--"):
			name, _, inline := strings.Cut(a[2:], "=")
			f := lookup(name, false)
			if f == nil {
				return nil
			}
			if !inline && f.NoOptDefVal == "" {
				i++ // its value
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			f := lookup(a[1:2], true) // -w 80, -w80, or -ab
			if f == nil {
				return nil
			}
			if len(a) == 2 && f.NoOptDefVal == "" {
				i++
			}
		default:
			for _, c := range cmd.Commands() {
				if c.Name() == a || c.HasAlias(a) {
					return nil // cobra's to run
				}
			}
			return unknownCommand(cmd, a)
		}
	}
	return nil
}

// outputWidth returns the number of columns the command's tables fit in:
// --width, else $COLUMNS, else the width of the terminal that stdout is,
// else term.DefaultWidth (see term.Width).
func outputWidth(cmd *cobra.Command) int {
	n, _ := cmd.Flags().GetInt("width")
	return term.Width(fileOf(cmd.OutOrStdout()), n)
}

// addDBFlag adds --db to cmd and returns where its value goes.
func addDBFlag(cmd *cobra.Command) *string {
	def := defaultDB
	if env := os.Getenv("ATTNLAB_DB"); env != "" {
		def = env
	}
	p := new(string)
	cmd.Flags().StringVar(p, "db", def, "run database: a SQLite file or a postgres:// URL ($ATTNLAB_DB sets the default)")
	// The help shows the default with any password masked.
	cmd.Flags().Lookup("db").DefValue = store.Redact(def)
	return p
}

// listFlag is a comma-separated, repeatable list of strings (pflag's
// StringSlice) that remembers an empty item, which pflag's own takes
// without a word: --compare ” reads as no file at all (and beside
// --compare x.json as x.json alone), a stray comma as a file named "".
// The root's PersistentPreRunE refuses it (emptyListItem).
type listFlag struct {
	pflag.Value
	what  string // what an item is, for the error: "file name", "key"
	empty string // the first value given with an empty item; "" if none
	bad   bool
}

// addListFlag defines a listFlag on f; what says what an item is ("key").
func addListFlag(f *pflag.FlagSet, p *[]string, name, what, usage string) {
	f.StringSliceVar(p, name, nil, usage)
	fl := f.Lookup(name)
	fl.Value = &listFlag{Value: fl.Value, what: what}
	// pflag prints "(default [])" for a Value type it does not know.
	fl.DefValue = ""
}

func (l *listFlag) Set(s string) error {
	if err := l.Value.Set(s); err != nil {
		return err
	}
	if !l.bad && (s == "" || slices.Contains(l.Value.(pflag.SliceValue).GetSlice(), "")) {
		l.bad, l.empty = true, s
	}
	return nil
}

// emptyListItem returns a usage error for the first listFlag of cmd given
// an empty item: "--by "a,": an empty key".
func emptyListItem(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if l, ok := f.Value.(*listFlag); ok && l.bad && err == nil {
			err = usagef("--%s %q: an empty %s", f.Name, l.empty, l.what)
		}
	})
	return err
}

// floatFlag is a float64 flag that refuses a number too small for a
// float64: strconv.ParseFloat (and pflag's Float64) reads 1e-400 as 0
// without an error, which for generate's --temperature or --top-p said
// "--temperature 0" of a value the user never gave.
type floatFlag struct{ p *float64 }

// addFloatFlag defines a floatFlag on f with default 0.
func addFloatFlag(f *pflag.FlagSet, p *float64, name, usage string) {
	f.Var(floatFlag{p}, name, usage)
}

func (v floatFlag) Type() string   { return "float64" }
func (v floatFlag) String() string { return strconv.FormatFloat(*v.p, 'g', -1, 64) }

func (v floatFlag) Set(s string) error {
	x, err := floatlit.Parse(s)
	if err != nil {
		return err // plainFlagError says a strconv error in words
	}
	*v.p = x
	return nil
}

// args returns a positional-argument check that names the arguments a
// command expects: "missing EXPERIMENT.yaml", "unexpected argument "x"". A
// last name ending in "..." takes any number of arguments.
func args(min int, names ...string) cobra.PositionalArgs {
	variadic := len(names) > 0 && strings.HasSuffix(names[len(names)-1], "...")
	return func(cmd *cobra.Command, got []string) error {
		switch {
		case len(got) < min:
			return usagef("missing %s", strings.Join(names[len(got):min], " and "))
		case len(names) == 0 && len(got) > 0:
			return usagef("takes no arguments, got %q", got[0])
		case len(got) > len(names) && !variadic:
			extra := got[len(names)]
			if k, _, ok := strings.Cut(extra, "="); ok && cmd.Flags().Lookup("set") != nil && !strings.ContainsAny(k, " /") {
				return usagef("unexpected argument %q: to override a key write --set %s", extra, extra)
			}
			return usagef("unexpected argument %q (usage: %s)", extra, cmd.UseLine())
		}
		return nil
	}
}

// numberKinds says, by strconv.NumError.Func, what a flag's parser wanted.
var numberKinds = map[string]string{
	"ParseUint":  "a whole number ≥ 0",
	"ParseInt":   "a whole number",
	"Atoi":       "a whole number",
	"ParseFloat": "a number",
	"ParseBool":  "true or false",
}

// plainFlagError says what is wrong with a flag's value in words
// ("invalid argument "-1" for "--seed" flag: not a whole number ≥ 0")
// instead of Go's parser's message: a *pflag.InvalidValueError whose cause
// is a *strconv.NumError says what the parser wanted (its Func) and why it
// failed (its Err, strconv.ErrRange or not). Any other error is returned as
// it is, whatever its text holds (an unknown flag named
// "--strconv.Atoi: parsing …" stays as typed).
func plainFlagError(err error) error {
	var bad *pflag.InvalidValueError
	var num *strconv.NumError
	if !errors.As(err, &bad) || !errors.As(bad, &num) {
		return err
	}
	kind, ok := numberKinds[num.Func]
	if !ok {
		kind = "a value of this kind"
	}
	why := "not " + kind
	if errors.Is(num.Err, strconv.ErrRange) {
		why = "out of range for " + kind
	}
	f := bad.GetFlag()
	name := "--" + f.Name
	if f.Shorthand != "" && f.ShorthandDeprecated == "" {
		name = "-" + f.Shorthand + ", " + name // as pflag names it
	}
	return fmt.Errorf("invalid argument %q for %q flag: %s", bad.GetValue(), name, why)
}

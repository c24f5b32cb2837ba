package main

import (
	"fmt"
	"strings"
)

// sbatchOptionTable is sbatch's table of options: common_options[] in
// src/common/slurm_opt.c, the entries sbatch enables (set_func or
// set_func_sbatch), as getopt_long reads them. It is the union of Slurm
// 22.05.8 (tag slurm-22-05-8-1, Debian 12's slurm-wlm; checked against
// its sbatch, which lists the same names in its "is ambiguous" errors)
// and of Slurm 26.11.0 (master at 284c3b95f0): the last column names the
// one version that has an option the other lacks. Where they differ in
// whether an option takes a value (--get-user-env, --requeue), it is the
// more permissive, optional. Columns: the long name; whether it takes a
// value (none, required, optional); its short letter (-A), or the option
// it is another name of (=ntasks-per-node: getopt_long finds no
// ambiguity between the two).
//
// A site's SPANK plugins may add options (pyxis's --container-image):
// sbatch knows them, this table does not. parseSbatchArgs passes a long
// option it does not have on as unknown (attnlab slurm notes it), and
// reads a start of its options as sbatch would without plugins.
const sbatchOptionTable = `
account                required -A
acctg-freq             required
array                  required -a
autocomplete           required                    26.11
batch                  required
bb                     required
bbf                    required
begin                  required -b
chdir                  required -D
cluster                required
cluster-constraint     required
clusters               required -M
comment                required
consolidate-segments   none                        26.11
constraint             required -C
container              required
container-id           required                    26.11
context                required
contiguous             none
core-spec              required -S
cores-per-socket       required
cpu-freq               required
cpus-per-gpu           required
cpus-per-task          required -c
deadline               required
delay-boot             required
dependency             required -d
distribution           required -m
error                  required -e
exclude                required -x
exclusive              optional
export                 required
export-file            required
external               none                        26.11
extra                  required                    26.11
extra-node-info        required -B
get-user-env           optional
gid                    required
gpu-bind               required
gpu-freq               required
gpus                   required -G
gpus-per-node          required
gpus-per-socket        required
gpus-per-task          required
gres                   required
gres-flags             required
help                   none     -h
hint                   required
hold                   none     -H
ignore-pbs             none
input                  required -i
job-name               required -J
kill-on-invalid-dep    required
licenses               required -L
mail-type              required
mail-user              required
mcs-label              required
mem                    required
mem-bind               required
mem-per-cpu            required
mem-per-gpu            required
mem-update             required                    26.11
mincpus                required
network                required
nice                   optional
no-kill                optional -k
no-requeue             none
nodefile               required -F
nodelist               required -w
nodes                  required -N
ntasks                 required -n
ntasks-per-core        required
ntasks-per-gpu         required
ntasks-per-node        required
ntasks-per-socket      required
ntasks-per-tres        required
oom-kill-step          optional                    26.11
open-mode              required
output                 required -o
overcommit             none     -O
oversubscribe          none     -s
parsable               none
partition              required -p
power                  required                    22.05
prefer                 required
priority               required
profile                required
propagate              optional
qos                    required -q
quiet                  none     -Q
reboot                 none
requeue                optional
reservation            required
resources              required                    26.11
resv-ports             optional                    26.11
runtime                required                    26.11
segment                required                    26.11
signal                 required
sockets-per-node       required
spread-job             none
spread-segments        none                        26.11
stepmgr                none                        26.11
switches               required
tasks-per-node         required =ntasks-per-node
test-only              none
thread-spec            required
threads-per-core       required
time                   required -t
time-min               required
tmp                    required
tres-bind              required                    26.11
tres-per-task          required                    26.11
uid                    required
usage                  none
use-min-nodes          none
verbose                none     -v
version                none     -V
wait                   none     -W
wait-all-nodes         required
wckey                  required
wrap                   required
`

// sbatchValue is how an sbatch option takes a value (getopt_long's has_arg).
type sbatchValue uint8

const (
	valueNone     sbatchValue = iota // --hold
	valueRequired                    // --mem=4G, --mem 4G, -A lab, -Alab
	valueOptional                    // --exclusive, --exclusive=user; never the next word
)

// sbatchOptionSpec is one option of sbatchOptionTable.
type sbatchOptionSpec struct {
	name  string // long name, without its dashes
	value sbatchValue
	short byte   // its letter, 0 if none
	same  string // the option it is another name of (getopt_long's val), "" if none
}

// key is what getopt_long compares to tell two options apart (has_arg and
// val): two names with one key are one option.
func (s *sbatchOptionSpec) key() string {
	switch {
	case s.short != 0:
		return fmt.Sprintf("%d-%c", s.value, s.short)
	case s.same != "":
		return fmt.Sprintf("%d=%s", s.value, s.same)
	}
	return fmt.Sprintf("%d=%s", s.value, s.name)
}

// canonical is the name of the option s is: its own, or that of the
// option it is another name of.
func (s *sbatchOptionSpec) canonical() string {
	if s.same != "" {
		return s.same
	}
	return s.name
}

// sbatchOptions is sbatchOptionTable, parsed; sbatchShort indexes it by
// letter.
var sbatchOptions, sbatchShort = parseSbatchOptionTable(sbatchOptionTable)

// parseSbatchOptionTable parses sbatchOptionTable. It panics on a
// malformed line: the table is the program's.
func parseSbatchOptionTable(table string) ([]sbatchOptionSpec, map[byte]*sbatchOptionSpec) {
	var specs []sbatchOptionSpec
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			panic("sbatch option table: malformed line " + line)
		}
		s := sbatchOptionSpec{name: f[0]}
		switch f[1] {
		case "none":
			s.value = valueNone
		case "required":
			s.value = valueRequired
		case "optional":
			s.value = valueOptional
		default:
			panic("sbatch option table: malformed line " + line)
		}
		for _, c := range f[2:] {
			switch {
			case len(c) == 2 && c[0] == '-':
				s.short = c[1]
			case strings.HasPrefix(c, "="):
				s.same = c[1:]
			case c == "22.05" || c == "26.11":
			default:
				panic("sbatch option table: malformed line " + line)
			}
		}
		specs = append(specs, s)
	}
	short := map[byte]*sbatchOptionSpec{}
	for i := range specs {
		if c := specs[i].short; c != 0 {
			short[c] = &specs[i]
		}
	}
	return specs, short
}

// lookupSbatchLong finds the long option name (without its dashes) as
// sbatch's getopt_long does: the option of that name, or else the one
// option it starts, counting the names of one option (getopt_long's
// has_arg and val) once. When it starts several, spec is nil and
// candidates lists them; when none, both are nil.
func lookupSbatchLong(name string) (spec *sbatchOptionSpec, candidates []string) {
	var found *sbatchOptionSpec
	ambiguous := false
	for i := range sbatchOptions {
		s := &sbatchOptions[i]
		if s.name == name {
			return s, nil
		}
		if strings.HasPrefix(s.name, name) {
			candidates = append(candidates, "--"+s.name)
			if found == nil {
				found = s
			} else if s.key() != found.key() {
				ambiguous = true
			}
		}
	}
	if ambiguous {
		return nil, candidates
	}
	return found, nil
}

// sbatchSetting is one option as sbatch reads it from the script's
// #SBATCH lines.
type sbatchSetting struct {
	name     string // long name, without its dashes ("account" for -A or --acco; "ntasks-per-node" for --tasks-per-node)
	value    string
	hasValue bool
	arg      int // index of the --sbatch-arg that holds its option word
	// unknown: a long option not in sbatchOptionTable (a site plugin's?),
	// name as written; nextWord: its value is the word after it.
	unknown, nextWord bool
}

// parseSbatchArgs reads the options of the --sbatch-arg lines args as
// sbatch reads the #SBATCH lines of a script: all their words
// (sbatchWords) as one argument list for getopt_long with "+" (it stops at
// the first word that is not an option, and sbatch then refuses the
// script: "Invalid directive found in batch script"). A long option may be
// abbreviated to a start of its name that starts no other option; a
// required value follows "=", or is the next word whatever it is ("-A -W":
// account "-W"); an optional one only follows "=". Short options run
// together ("-Hp debug") until one that takes a value, which takes the
// rest of the word or the next word. The error, a usage error naming the
// --sbatch-arg and its word, is for what sbatch would refuse: a word it
// cannot split, an option it does not have or finds ambiguous, a missing
// or unwanted value, a stray word. settings are those read before it.
//
// A long option that is not in the table, nor a start of any option's
// name, may be a site's SPANK plugin's (sbatch adds those to its table):
// it is a setting with unknown set, its value after "=", or else the next
// word if that word does not start with '-' (a plugin's option may take
// one: --container-image IMG). A start of several of sbatch's own options
// stays refused as ambiguous, and a start of one is read as that option,
// even though a plugin's option of that very name (or one that also
// starts with it) would make sbatch read it otherwise: the options the
// script must not have (--array, --output, --export, --wrap, ...) are
// found by their starts too, and a plugin's option is never named so
// short. A name that cannot be an option's (---x) is refused.
func parseSbatchArgs(args []string) (settings []sbatchSetting, err error) {
	type word struct {
		text string
		arg  int
	}
	var (
		words    []word
		splitErr error
	)
	for i, a := range args {
		ws, err := splitSbatchLine(a)
		for _, w := range ws {
			words = append(words, word{w, i})
		}
		if err != nil {
			// sbatch refuses the script there; the words before it are
			// still read, for the checks of what they say.
			splitErr = usagef("--sbatch-arg %q: %v", a, err)
			break
		}
	}
	refuse := func(w word, format string, v ...any) ([]sbatchSetting, error) {
		return settings, usagef("--sbatch-arg %q: "+format, append([]any{args[w.arg]}, v...)...)
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w.text == "--":
			// The end of the options: a word after it is a stray one.
			if i+1 < len(words) {
				return refuse(words[i+1], "sbatch refuses the script at %q, which is no option (it follows --)", words[i+1].text)
			}
			return settings, splitErr
		case !strings.HasPrefix(w.text, "-") || w.text == "-":
			hint := ""
			if len(settings) > 0 {
				if last := settings[len(settings)-1]; !last.hasValue {
					if spec, _ := lookupSbatchLong(last.name); spec != nil && spec.value == valueOptional {
						hint = fmt.Sprintf(" (--%s takes a value only as --%s=VALUE)", last.name, last.name)
					} else {
						hint = fmt.Sprintf(" (--%s takes no value)", last.name)
					}
				}
			}
			return refuse(w, "sbatch refuses the script at %q, which is no option%s", w.text, hint)
		case strings.HasPrefix(w.text, "--"):
			name, value, eq := strings.Cut(w.text[2:], "=")
			spec, candidates := lookupSbatchLong(name)
			switch {
			case candidates != nil:
				return refuse(w, "sbatch (Slurm 22.05 or 26.11) finds --%s ambiguous: it starts %s; spell the option out", name, strings.Join(candidates, ", "))
			case spec == nil && !optionName(name):
				return refuse(w, "sbatch has no option --%s", name)
			case spec == nil:
				s := sbatchSetting{name: name, value: value, hasValue: eq, arg: w.arg, unknown: true}
				if !eq && i+1 < len(words) && !strings.HasPrefix(words[i+1].text, "-") {
					i++
					s.value, s.hasValue, s.nextWord = words[i].text, true, true
				}
				settings = append(settings, s)
				continue
			}
			s := sbatchSetting{name: spec.canonical(), value: value, hasValue: eq, arg: w.arg}
			switch {
			case spec.value == valueNone && eq:
				return refuse(w, "--%s takes no value", spec.name)
			case spec.value == valueRequired && !eq:
				if i+1 == len(words) {
					return refuse(w, "--%s wants a value", spec.name)
				}
				i++
				s.value, s.hasValue = words[i].text, true
			}
			settings = append(settings, s)
		default:
			// A cluster of short options.
			for j := 1; j < len(w.text); j++ {
				spec := sbatchShort[w.text[j]]
				if spec == nil {
					return refuse(w, "sbatch has no option -%c", w.text[j])
				}
				s := sbatchSetting{name: spec.name, arg: w.arg}
				if spec.value != valueNone {
					if rest := w.text[j+1:]; rest != "" {
						s.value, s.hasValue = rest, true
					} else if spec.value == valueRequired {
						if i+1 == len(words) {
							return refuse(w, "-%c (--%s) wants a value", spec.short, spec.name)
						}
						i++
						s.value, s.hasValue = words[i].text, true
					}
					settings = append(settings, s)
					break
				}
				settings = append(settings, s)
			}
		}
	}
	return settings, splitErr
}

// optionName tells whether name (without its dashes) can be the long name
// of an option of a SPANK plugin: letters, digits, '-' and '_', starting
// with a letter or digit.
func optionName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return name != ""
}

// unknownSbatchNotes are the notes on the long options of the --sbatch-arg
// lines args that sbatch's own table lacks (parseSbatchArgs): they are
// passed to sbatch as they are, which refuses the script if no plugin of
// the site has them.
func unknownSbatchNotes(args []string) []string {
	settings, _ := parseSbatchArgs(args)
	var notes []string
	for _, s := range settings {
		if !s.unknown {
			continue
		}
		value := ""
		if s.nextWord {
			value = fmt.Sprintf(", with the next word %q as its value", s.value)
		}
		notes = append(notes, fmt.Sprintf("attnlab slurm: note: --sbatch-arg %q: --%s is not one of sbatch's own options (Slurm 22.05/26.11): passed to sbatch as is%s (a site plugin's option? sbatch refuses the script if not)", args[s.arg], s.name, value))
	}
	return notes
}

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/optim"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// pluginKind is one registry that `attnlab list` shows.
type pluginKind struct {
	name    string // plural, as typed: "encoders"
	single  string // singular alias: "encoder"
	key     string // the YAML block whose name picks an entry
	entries func() []pluginEntry
	lookup  func(name string) error
}

// pluginEntry is one registry entry as `attnlab list` shows it.
type pluginEntry struct {
	name, doc, note string
	params          []registry.ParamInfo
}

func entriesOf[F any](r *registry.Registry[F], note func(F) string) func() []pluginEntry {
	return func() []pluginEntry {
		var out []pluginEntry
		for _, e := range r.Entries() {
			pe := pluginEntry{name: e.Name, doc: e.Doc, params: e.Describe()}
			if note != nil {
				pe.note = note(e.New)
			}
			out = append(out, pe)
		}
		return out
	}
}

func lookupIn[F any](r *registry.Registry[F]) func(string) error {
	return func(name string) error { _, err := r.Lookup(name); return err }
}

// pluginKinds lists the registries in the order of the experiment format.
func pluginKinds() []pluginKind {
	return []pluginKind{
		{"tasks", "task", "task", entriesOf(tasks.Registry, nil), lookupIn(tasks.Registry)},
		{"models", "model", "model", entriesOf(models.Registry, modelNote), lookupIn(models.Registry)},
		{"encoders", "encoder", "model.encoder", entriesOf(models.Encoders, nil), lookupIn(models.Encoders)},
		{"attention", "attn", "model.attention", entriesOf(attention.Registry, nil), lookupIn(attention.Registry)},
		{"optimizers", "optimizer", "train.optimizer", entriesOf(optim.Registry, nil), lookupIn(optim.Registry)},
		{"schedules", "schedule", "train.schedule", entriesOf(optim.Schedules, nil), lookupIn(optim.Schedules)},
	}
}

// modelNote says what a model assembly reads besides its own keys.
func modelNote(k models.Kind) string {
	var parts []string
	if k.LM {
		parts = append(parts, "language model: task "+strings.Join(experiments.LMTasks, " or "))
	} else {
		parts = append(parts, "sequence to sequence")
	}
	if k.UsesEncoder {
		parts = append(parts, "reads model.encoder")
	}
	if k.UsesAttention {
		parts = append(parts, "reads model.attention")
	}
	return strings.Join(parts, "; ")
}

func newListCmd() *cobra.Command {
	var names []string
	for _, k := range pluginKinds() {
		names = append(names, k.name)
	}
	return &cobra.Command{
		Use:   "list [KIND [NAME]]",
		Short: "List the tasks, models, encoders, attention variants, optimizers and schedules",
		Long: `List every entry of attnlab's plugin registries with its doc and parameters
(name, type, default, doc): the vocabulary of the experiment YAML. KIND is one of
` + strings.Join(names, ", ") + `; without it, all are listed. NAME shows one entry.`,
		Example: "  attnlab list attention\n  attnlab list models seq2seq-rnn",
		Args:    args(0, "KIND", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			kinds := pluginKinds()
			if len(args) > 0 {
				k, ok := findKind(kinds, args[0])
				if !ok {
					return usagef("unknown kind %q (known: %s)", args[0], strings.Join(names, ", "))
				}
				kinds = []pluginKind{k}
			}
			name := ""
			if len(args) > 1 {
				name = args[1]
				if err := kinds[0].lookup(name); err != nil {
					return &usageError{err}
				}
			}
			w := cmd.OutOrStdout()
			for i, k := range kinds {
				if i > 0 {
					fmt.Fprintln(w)
				}
				writeKind(w, k, name)
			}
			return nil
		},
	}
}

func findKind(kinds []pluginKind, s string) (pluginKind, bool) {
	s = strings.ToLower(s)
	for _, k := range kinds {
		if s == k.name || s == k.single {
			return k, true
		}
	}
	return pluginKind{}, false
}

// maxDefault is the widest default shown in its column; longer ones follow
// the parameter's doc.
const maxDefault = 14

// writeKind writes the entries of one registry (or only the entry name).
func writeKind(w io.Writer, k pluginKind, name string) {
	entries := k.entries()
	fmt.Fprintf(w, "%s: %s: {name: NAME, KEY: VALUE, ...}\n", strings.ToUpper(k.name), k.key)
	// One layout for the whole kind, so columns line up across entries.
	var nameW, typeW, defW int
	for _, e := range entries {
		for _, p := range e.params {
			nameW = max(nameW, width(p.Name))
			typeW = max(typeW, width(p.Type))
			if width(p.Default) <= maxDefault {
				defW = max(defW, width(p.Default))
			}
		}
	}
	for _, e := range entries {
		if name != "" && e.name != name {
			continue
		}
		fmt.Fprintln(w)
		writeHanging(w, e.name+"  ", e.doc)
		if e.note != "" {
			writeHanging(w, "  ", "("+e.note+")")
		}
		if len(e.params) == 0 {
			fmt.Fprintln(w, "  (no parameters)")
			continue
		}
		for _, p := range e.params {
			def, doc := p.Default, p.Doc
			if width(def) > maxDefault {
				def, doc = "(below)", doc+"; default: "+def
			}
			prefix := "  " + pad(p.Name, nameW) + "  " + pad(p.Type, typeW) + "  " + pad(def, defW) + "  "
			writeHanging(w, prefix, doc)
		}
	}
}

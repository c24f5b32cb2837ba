package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/registry"
)

// noteOf says what an entry is and reads besides its own keys: its
// capabilities and the nested blocks it reads.
func noteOf(site registry.Site, e registry.Info) string {
	var parts []string
	for _, c := range e.Caps {
		parts = append(parts, string(c))
	}
	var reads []string
	for _, u := range e.Uses {
		if !e.IsParam(u) {
			reads = append(reads, site.Path+"."+u)
		}
	}
	if len(reads) > 0 {
		parts = append(parts, "reads "+strings.Join(reads, " and "))
	}
	return strings.Join(parts, "; ")
}

func newListCmd() *cobra.Command {
	var names []string
	for _, st := range experiments.Sites {
		names = append(names, st.List)
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
			sites := experiments.Sites
			if len(args) > 0 {
				st, ok := sites.Find(args[0])
				if !ok {
					return usagef("unknown kind %q (known: %s)", args[0], strings.Join(names, ", "))
				}
				sites = registry.Sites{st}
			}
			name := ""
			if len(args) > 1 {
				name = args[1]
				if _, err := sites[0].Catalog.Info(name); err != nil {
					return &usageError{err}
				}
			}
			w := cmd.OutOrStdout()
			for i, st := range sites {
				if i > 0 {
					fmt.Fprintln(w)
				}
				writeSite(w, st, name)
			}
			return nil
		},
	}
}

// maxDefault is the widest default shown in its column; longer ones follow
// the parameter's doc.
const maxDefault = 14

// writeSite writes the entries of one site's registry (or only the entry
// name).
func writeSite(w io.Writer, site registry.Site, name string) {
	entries := site.Catalog.Infos()
	fmt.Fprintf(w, "%s: %s: {name: NAME, KEY: VALUE, ...}\n", strings.ToUpper(site.List), site.Path)
	// One layout for the whole kind, so columns line up across entries.
	var nameW, typeW, defW int
	for _, e := range entries {
		for _, p := range e.Params {
			nameW = max(nameW, width(p.Name))
			typeW = max(typeW, width(p.Type))
			if width(p.Default) <= maxDefault {
				defW = max(defW, width(p.Default))
			}
		}
	}
	for _, e := range entries {
		if name != "" && e.Name != name {
			continue
		}
		fmt.Fprintln(w)
		writeHanging(w, e.Name+"  ", e.Doc)
		if note := noteOf(site, e); note != "" {
			writeHanging(w, "  ", "("+note+")")
		}
		if len(e.Params) == 0 {
			fmt.Fprintln(w, "  (no parameters)")
			continue
		}
		for _, p := range e.Params {
			def, doc := p.Default, p.Doc
			if width(def) > maxDefault {
				def, doc = "(below)", doc+"; default: "+def
			}
			prefix := "  " + pad(p.Name, nameW) + "  " + pad(p.Type, typeW) + "  " + pad(def, defW) + "  "
			writeHanging(w, prefix, doc)
		}
	}
}

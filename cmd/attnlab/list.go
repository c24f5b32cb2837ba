package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/registry"
)

func newListCmd() *cobra.Command {
	var markdown bool
	var kinds []string
	for _, s := range experiments.Reference() {
		kinds = append(kinds, s.Name)
	}
	for _, st := range experiments.Sites {
		kinds = append(kinds, st.List)
	}
	cmd := &cobra.Command{
		Use:   "list [WHAT [NAME]]",
		Short: "Document every key of an experiment file and every task, model, attention, ...",
		Long: `Document the experiment format: every key of an experiment file, with its type,
default, allowed values and meaning, and every entry of the plugin registries
(tasks, models, encoders, attention variants, optimizers, schedules) with its
parameters. Without WHAT, everything is listed. WHAT is one of
` + strings.Join(kinds, ", ") + `,
or a key such as train.batch_size; NAME picks one entry of a registry.
Lines fit --width, $COLUMNS or the terminal, up to 100 columns (100 when
the output is not a terminal).`,
		Example: "  attnlab list train\n  attnlab list sweep\n  attnlab list attention\n  attnlab list models seq2seq-rnn\n  attnlab list --markdown",
		Args:    args(0, "WHAT", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if markdown {
				if len(args) > 0 {
					return usagef("--markdown writes the whole reference: give no WHAT")
				}
				writeReferenceMarkdown(w, experiments.Reference())
				return nil
			}
			// At most 100 columns: prose reads better than a full wide line.
			return writeList(w, min(outputWidth(cmd), 100), args)
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "write the configuration reference as Markdown (README's section)")
	return cmd
}

// writeList writes what args ask for (see the command's help) laid out in
// cols columns.
func writeList(w io.Writer, cols int, args []string) error {
	ref := experiments.Reference()
	if len(args) == 0 {
		for i, s := range ref {
			if i > 0 {
				fmt.Fprintln(w)
			}
			writeSection(w, cols, s, "")
		}
		for _, st := range experiments.Sites {
			fmt.Fprintln(w)
			writeSite(w, cols, st, "")
		}
		return nil
	}
	what := strings.ToLower(args[0])
	for _, s := range ref {
		if s.Name == what {
			if len(args) > 1 {
				return usagef("%s is a part of the format, not a registry: give no NAME", what)
			}
			writeSection(w, cols, s, "")
			return nil
		}
	}
	if st, ok := experiments.Sites.Find(what); ok {
		name := ""
		if len(args) > 1 {
			name = args[1]
			if _, err := st.Catalog.Info(name); err != nil {
				return &usageError{err}
			}
		}
		writeSite(w, cols, st, name)
		return nil
	}
	for _, s := range ref {
		for _, k := range s.Keys {
			if k.Key == what && len(args) == 1 {
				writeSection(w, cols, s, k.Key)
				return nil
			}
		}
	}
	var kinds []string
	for _, s := range ref {
		kinds = append(kinds, s.Name)
	}
	for _, st := range experiments.Sites {
		kinds = append(kinds, st.List)
	}
	return usagef("unknown kind %q (known: %s, or a key such as train.batch_size)", args[0], strings.Join(kinds, ", "))
}

// row is one key or parameter in a list table.
type row struct {
	name, typ, def, doc string
}

// writeSection writes one part of the format reference (only the key only
// when it is not "").
func writeSection(w io.Writer, cols int, s experiments.Section, only string) {
	prefix := s.Name + "."
	if s.Name == "experiment" {
		prefix = ""
	}
	header := strings.ToUpper(s.Name) + ": " + s.Doc
	if prefix != "" {
		header = strings.ToUpper(s.Name) + ": " + s.Name + ".KEY: " + s.Doc
	}
	writeHangingIn(w, cols, "", header)
	fmt.Fprintln(w)
	var rows []row
	for _, k := range s.Keys {
		if only != "" && k.Key != only {
			continue
		}
		def := k.Default
		if def == "" {
			def = "-"
		}
		doc := k.Doc
		if k.Range != "" {
			doc += " (" + k.Range + ")"
		}
		rows = append(rows, row{name: strings.TrimPrefix(k.Key, prefix), typ: shortType(k.Type), def: def, doc: doc})
	}
	writeRows(w, cols, rows)
}

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

// writeSite writes the entries of one site's registry (or only the entry
// name), one table layout for the whole site so that columns line up.
func writeSite(w io.Writer, cols int, site registry.Site, name string) {
	entries := site.Catalog.Infos()
	writeHangingIn(w, cols, "", strings.ToUpper(site.List)+": "+site.Path+": {name: NAME, KEY: VALUE, ...}")
	var all [][]row
	for _, e := range entries {
		var rows []row
		for _, p := range e.Params {
			doc := p.Doc
			if p.Range != "" {
				doc += " (" + p.Range + ")"
			}
			if p.Type == "plugin" {
				doc += " (a " + site.Path + "." + p.Name + " block)"
			}
			rows = append(rows, row{name: p.Name, typ: shortType(p.Type), def: p.Default, doc: doc})
		}
		all = append(all, rows)
	}
	// One layout for the whole site, so that columns line up across
	// entries; for one entry, that entry's own.
	var flat []row
	for i, rows := range all {
		if name == "" || entries[i].Name == name {
			flat = append(flat, rows...)
		}
	}
	layout := newLayout(cols, flat)
	for i, e := range entries {
		if name != "" && e.Name != name {
			continue
		}
		fmt.Fprintln(w)
		writeHangingIn(w, cols, e.Name+"  ", e.Doc)
		if note := noteOf(site, e); note != "" {
			writeHangingIn(w, cols, "  ", "("+note+")")
		}
		if len(all[i]) == 0 {
			fmt.Fprintln(w, "  (no parameters)")
			continue
		}
		layout.write(w, all[i])
	}
}

// shortType abbreviates list types for the type column: [int], [string].
func shortType(t string) string {
	if e, ok := strings.CutPrefix(t, "list of "); ok {
		return "[" + e + "]"
	}
	return t
}

// layout is the column layout of a table of rows: name, type and default
// columns sized to the rows, the doc wrapped in the rest of the width. A
// default wider than its column moves into the doc; when the doc column
// would be too narrow, each row becomes a line of name, type and default
// with the doc wrapped under it.
type layout struct {
	cols                  int
	nameW, typeW, defW    int
	maxDef                int
	stacked               bool
	docIndent, docIndent2 string
}

func newLayout(cols int, rows []row) layout {
	l := layout{cols: cols, maxDef: 14}
	if cols < 100 {
		l.maxDef = 12
	}
	for _, r := range rows {
		l.nameW = max(l.nameW, width(r.name))
		l.typeW = max(l.typeW, width(r.typ))
		if width(r.def) <= l.maxDef {
			l.defW = max(l.defW, width(r.def))
		}
	}
	l.stacked = cols-(2+l.nameW+2+l.typeW+2+l.defW+2) < 28
	return l
}

func writeRows(w io.Writer, cols int, rows []row) { newLayout(cols, rows).write(w, rows) }

func (l layout) write(w io.Writer, rows []row) {
	for _, r := range rows {
		def, doc := r.def, r.doc
		if l.stacked {
			head := r.name + " (" + r.typ + ")"
			if def != "-" {
				if h := r.name + " (" + r.typ + ", default " + def + ")"; width(h) <= l.cols-2 {
					head = h
				} else {
					doc += "; default: " + def
				}
			}
			writeHangingIn(w, l.cols, "  ", head)
			writeHangingIn(w, l.cols, "      ", doc)
			continue
		}
		if width(def) > l.maxDef {
			def, doc = "(below)", doc+"; default: "+def
		}
		prefix := "  " + pad(r.name, l.nameW) + "  " + pad(r.typ, l.typeW) + "  " + pad(def, l.defW) + "  "
		writeHangingIn(w, l.cols, prefix, doc)
	}
}

// writeHangingIn writes s wrapped to cols columns: the first line after
// prefix, the others indented to prefix's width.
func writeHangingIn(w io.Writer, cols int, prefix, s string) {
	if cols-width(prefix) < 24 && strings.TrimSpace(prefix) != "" {
		// Too little room beside the prefix: the text goes under it.
		fmt.Fprintln(w, strings.TrimRight(prefix, " "))
		prefix = "      "
	}
	indent := strings.Repeat(" ", width(prefix))
	for i, l := range wrap(s, max(cols-width(prefix), 20)) {
		if i == 0 {
			fmt.Fprintln(w, strings.TrimRight(prefix+l, " "))
		} else {
			fmt.Fprintln(w, indent+l)
		}
	}
}

// writeReferenceMarkdown writes the format reference as Markdown: a table
// per section. README.md's "Configuration reference" is this output.
func writeReferenceMarkdown(w io.Writer, ref []experiments.Section) {
	fmt.Fprintln(w, "Every key of an experiment file but the plugins' own parameters, which `attnlab list tasks`,")
	fmt.Fprintln(w, "`attnlab list models`, `attnlab list attention` (and so on) document; `attnlab list` shows all of it")
	fmt.Fprintln(w, "in the terminal.")
	for _, s := range ref {
		fmt.Fprintf(w, "\n### %s\n\n", s.Name)
		fmt.Fprintf(w, "%s.\n\n", capitalize(s.Doc))
		fmt.Fprintln(w, "| key | type | default | allowed | meaning |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
		for _, k := range s.Keys {
			def := k.Default
			if def != "" {
				def = "`" + def + "`"
			}
			fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s |\n", k.Key, k.Type, def, mdEscape(k.Range), mdEscape(k.Doc))
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdEscape keeps a cell's text from breaking the table.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

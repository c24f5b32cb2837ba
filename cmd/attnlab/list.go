package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/editdist"
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
(tasks, models, encoders, attention variants, their scores and per-head
attentions, optimizers, schedules) with its parameters. Without WHAT,
everything is listed. WHAT is one of
` + strings.Join(kinds, ", ") + `
(NAME picks one entry of a registry), or any key of the format:
  a setting             train.batch_size, eval.decode.beam, seeds, sweep.grid
  a plugin block        model.attention (as attention), model.name (its names)
  a plugin parameter    model.attention.heads, task.path, model.hidden: each
                        entry that has it, and which do not (NAME: that one's)
  a swept key           sweep.grid.model.attention.heads
An unknown key is an error naming the keys close to it.
Lines fit --width, $COLUMNS or the terminal, up to 100 columns (100 when
the output is not a terminal).`,
		Example: "  attnlab list train\n  attnlab list sweep\n  attnlab list attention\n  attnlab list models seq2seq-rnn\n" +
			"  attnlab list train.batch_size\n  attnlab list model.attention.heads\n  attnlab list task.path\n  attnlab list --markdown",
		Args: args(0, "WHAT", "NAME"),
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
			writeSite(w, cols, st, "", "")
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
		writeSite(w, cols, st, name, "")
		return nil
	}
	for _, s := range ref {
		for _, k := range s.Keys {
			if k.Key == what {
				if len(args) > 1 {
					return usagef("%s is a key of the format, not a registry: give no NAME", what)
				}
				writeSection(w, cols, s, k.Key)
				return nil
			}
		}
	}
	// A sweep kind's entries are config keys: sweep.grid.model.hidden.
	for _, kind := range []string{"sweep.grid", "sweep.zip", "sweep.random.params"} {
		rest, ok := strings.CutPrefix(what, kind+".")
		if block, _, _ := strings.Cut(rest, "."); ok && slices.Contains(experiments.ConfigBlocks(), block) {
			var b bytes.Buffer
			if err := writeList(&b, cols, append([]string{rest}, args[1:]...)); err != nil {
				return err
			}
			for _, s := range ref {
				if s.Name == "sweep" {
					writeSection(w, cols, s, kind)
				}
			}
			fmt.Fprintln(w)
			_, err := b.WriteTo(w)
			return err
		}
	}
	if i := strings.LastIndexByte(what, '.'); i >= 0 {
		if st, ok := experiments.Sites.At(what[:i]); ok {
			return writePluginKey(w, cols, st, what[i+1:], args[1:])
		}
		return usagef("unknown key %q (%s)", args[0], closeKeys(what))
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

// writePluginKey writes the key of a plugin block at site: its name
// (the site's own row and the names it takes; the entry names[0], if
// given) or a parameter of the entries that have it (of the entry names[0]
// only, if given).
func writePluginKey(w io.Writer, cols int, site registry.Site, key string, names []string) error {
	path := site.Path + "." + key
	if len(names) > 0 {
		info, err := site.Catalog.Info(names[0])
		if err != nil {
			return &usageError{err}
		}
		if key != "name" && !info.IsParam(key) {
			return usagef("%s %s has no parameter %s (its parameters: %s)", site.Catalog.Kind(), info.Name, key, paramList(info))
		}
	}
	if key == "name" && len(names) > 0 {
		writeSite(w, cols, site, names[0], "")
		return nil
	}
	if key == "name" {
		for _, s := range experiments.Reference() {
			for _, k := range s.Keys {
				if k.Key == site.Path {
					writeSection(w, cols, s, k.Key)
				}
			}
		}
		fmt.Fprintln(w)
		writeHangingIn(w, cols, "  ", path+": one of "+strings.Join(site.Catalog.Names(), ", ")+
			" (attnlab list "+site.List+" NAME documents one)")
		return nil
	}
	if !slices.ContainsFunc(site.Catalog.Infos(), func(e registry.Info) bool { return e.IsParam(key) }) {
		return usagef("unknown key %q: no %s entry has a parameter %s (%s)", path, site.Catalog.Kind(), key, closeKeys(path))
	}
	name := ""
	if len(names) > 0 {
		name = names[0]
	}
	writeSite(w, cols, site, name, key)
	return nil
}

// paramNote says which entries of site have the parameter param and which
// do not, and the other plugin keys of that name.
func paramNote(site registry.Site, param string) string {
	var have, lack []string
	for _, e := range site.Catalog.Infos() {
		if e.IsParam(param) {
			have = append(have, e.Name)
		} else {
			lack = append(lack, e.Name)
		}
	}
	of := "the " + site.Catalog.Kind()
	if len(have) > 1 {
		of = fmt.Sprintf("%d %s:", len(have), site.List)
	}
	note := site.Path + "." + param + " is a parameter of " + of + " " + strings.Join(have, ", ")
	if len(lack) > 0 {
		note += "; not of " + strings.Join(lack, ", ")
	}
	var also []string
	for _, k := range documentedKeys() {
		if strings.HasSuffix(k, "."+param) && k != site.Path+"."+param {
			also = append(also, k)
		}
	}
	if len(also) > 0 {
		note += " (see also " + strings.Join(also, ", ") + ")"
	}
	return note
}

// paramList returns an entry's parameter names, or "none".
func paramList(info registry.Info) string {
	if len(info.Params) == 0 {
		return "none"
	}
	return strings.Join(info.Keys(), ", ")
}

// documentedKeys returns every key `attnlab list KEY` resolves: the keys
// of the format reference, and NAME and every parameter of each plugin
// site, sorted.
func documentedKeys() []string {
	seen := map[string]bool{}
	for _, s := range experiments.Reference() {
		for _, k := range s.Keys {
			seen[k.Key] = true
		}
	}
	for _, st := range experiments.Sites {
		seen[st.Path+".name"] = true
		for _, e := range st.Catalog.Infos() {
			for _, p := range e.Params {
				seen[st.Path+"."+p.Name] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// closeKeys describes the documented keys nearest to key, nearest first:
// "close: a, b". Near are the keys a few edits away (a third of the length
// of key's last part, at least 2), those that key begins (train.batch is
// near train.batch_size), and those whose last part is near key's last
// part (sweep.seeds is near seeds and sweep.random.seed).
func closeKeys(key string) string {
	last := key[strings.LastIndexByte(key, '.')+1:]
	type cand struct {
		key  string
		dist int
	}
	var cands []cand
	for _, k := range documentedKeys() {
		kLast := k[strings.LastIndexByte(k, '.')+1:]
		d := editdist.Distance(key, k)
		switch {
		case d <= max(2, len(last)/3):
		case strings.HasPrefix(k, key):
			d = 2
		case editdist.Distance(last, kLast) <= len(last)/5:
			d = 100 + editdist.Distance(last, kLast) // after the whole keys
		default:
			continue
		}
		cands = append(cands, cand{k, d})
	}
	if len(cands) == 0 {
		return "attnlab list shows every key"
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(a.dist, b.dist) })
	var near []string
	for _, c := range cands[:min(5, len(cands))] {
		near = append(near, c.key)
	}
	return "close: " + strings.Join(near, ", ")
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
// name), one table layout for the whole site so that columns line up. With
// param, it writes only that parameter, of the entries that have it.
func writeSite(w io.Writer, cols int, site registry.Site, name, param string) {
	entries := site.Catalog.Infos()
	writeHangingIn(w, cols, "", strings.ToUpper(site.List)+": "+site.Path+": {name: NAME, KEY: VALUE, ...}")
	if param != "" {
		entries = slices.DeleteFunc(entries, func(e registry.Info) bool { return !e.IsParam(param) })
		if name == "" {
			fmt.Fprintln(w)
			writeHangingIn(w, cols, "", paramNote(site, param))
		}
	}
	var all [][]row
	for _, e := range entries {
		var rows []row
		for _, p := range e.Params {
			if param != "" && p.Name != param {
				continue
			}
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
	fmt.Fprintln(w, "in the terminal, and `attnlab list KEY` one key, a plugin's parameter included:")
	fmt.Fprintln(w, "`attnlab list model.attention.heads` shows it for every attention variant that has it.")
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

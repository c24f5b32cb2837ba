package registry

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Capability is a property of a registry entry that other packages ask
// about ([Info.Has]) instead of comparing names: "this task is a
// language-modelling task", "this model has a recurrent decoder". The
// package that gives a capability its meaning declares it as a constant.
type Capability string

// Info is one entry seen without its factory: what validation, `attnlab
// list` and the documentation need. Get it from a [Catalog].
type Info struct {
	Kind   string      // the registry's kind: "attention"
	Name   string      // the entry's name: "multi-head"
	Doc    string      // one line
	Params []ParamInfo // every parameter, nested plugin blocks included, in field order
	// Uses lists the keys of the nested plugin blocks the entry reads: the
	// entry's Uses, then its parameters of type Plugin.
	Uses []string
	Caps []Capability

	defaults any // the entry's parameter struct pointer, or nil
}

// Has reports whether the entry has capability c.
func (i Info) Has(c Capability) bool { return slices.Contains(i.Caps, c) }

// Keys returns the YAML keys of the entry's parameters, in field order.
func (i Info) Keys() []string {
	keys := make([]string, len(i.Params))
	for j, p := range i.Params {
		keys[j] = p.Name
	}
	return keys
}

// IsParam reports whether key is one of the entry's parameters.
func (i Info) IsParam(key string) bool {
	for _, p := range i.Params {
		if p.Name == key {
			return true
		}
	}
	return false
}

// Defaults returns a fresh copy of the entry's default parameters (a
// pointer to a new struct), or nil when the entry takes no parameters.
func (i Info) Defaults() any {
	if i.defaults == nil {
		return nil
	}
	return copyParams(i.defaults)
}

// Decode decodes m strictly into a fresh copy of the entry's defaults, as
// [Entry.Decode] does, reporting every unknown or mistyped key as a
// [ParamErrors] value; with opt.NoValidate the struct's Validate method is
// not run.
func (i Info) Decode(m map[string]any, opt DecodeOptions) (any, error) {
	return decodeParams(i.Kind, i.Name, i.defaults, m, opt)
}

// Validate runs the Validate method of p, a parameter struct pointer
// returned by Decode, naming the entry in its error (a [ParamErrors] value
// of one problem).
func (i Info) Validate(p any) error {
	if p == nil {
		return nil
	}
	return validate(i.Kind, i.Name, p)
}

// Lint runs the Lint method of p (a [Linter]), a parameter struct pointer
// returned by Decode, naming the entry in its error as Validate does.
func (i Info) Lint(p any) error {
	l, ok := p.(Linter)
	if !ok {
		return nil
	}
	return named(i.Kind, i.Name, l.Lint())
}

// Info returns the entry's catalog view, for a registry of the given kind.
func (e Entry[F]) Info(kind string) Info {
	info := Info{Kind: kind, Name: e.Name, Doc: e.Doc, Params: e.Describe(), Uses: slices.Clone(e.Uses),
		Caps: slices.Clone(e.Caps), defaults: e.Params}
	for _, p := range info.Params {
		if p.Type == "plugin" {
			info.Uses = append(info.Uses, p.Name)
		}
	}
	return info
}

// Catalog is a registry seen without its factory type: every [Registry]
// is one. It is what the experiment format's site table holds.
type Catalog interface {
	Kind() string
	Names() []string
	// Info returns the named entry, or an *UnknownError.
	Info(name string) (Info, error)
	// Infos returns every entry, sorted by name.
	Infos() []Info
}

var _ Catalog = (*Registry[func()])(nil)

// Info returns the catalog view of the entry registered under name, or an
// *UnknownError that lists the known names.
func (r *Registry[F]) Info(name string) (Info, error) {
	e, err := r.Lookup(name)
	if err != nil {
		return Info{}, err
	}
	return e.Info(r.kind), nil
}

// Infos returns the catalog view of every entry, sorted by name.
func (r *Registry[F]) Infos() []Info {
	es := r.Entries()
	out := make([]Info, len(es))
	for i, e := range es {
		out[i] = e.Info(r.kind)
	}
	return out
}

// Site is a place in a configuration format whose block names an entry of
// one registry: the block at Path holds the entry's name under "name" and
// its parameters beside it.
type Site struct {
	Path    string // dotted YAML path: "model.attention"
	Catalog Catalog
	// List is the plural the `attnlab list` command shows the site under
	// ("attention", "tasks"); the catalog's kind is its singular.
	List string
}

// Sites is the table of every plugin site of a configuration format, in the
// order of the format. A site whose parent path is a site is a nested block
// (model.encoder inside model): the entries of the parent read it when
// their Info.Uses names its last key.
type Sites []Site

// At returns the site at path.
func (s Sites) At(path string) (Site, bool) {
	for _, st := range s {
		if st.Path == path {
			return st, true
		}
	}
	return Site{}, false
}

// Children returns the last keys of the sites nested directly in the block
// at path, in table order.
func (s Sites) Children(path string) []string {
	var out []string
	for _, st := range s {
		if parent, key, ok := cutLast(st.Path); ok && parent == path {
			out = append(out, key)
		}
	}
	return out
}

// Find returns the site a user names in `attnlab list`: its List name, its
// catalog's kind or its path, in any case.
func (s Sites) Find(name string) (Site, bool) {
	name = strings.ToLower(name)
	for _, st := range s {
		if name == st.List || name == st.Catalog.Kind() || name == st.Path {
			return st, true
		}
	}
	return Site{}, false
}

// Check reports the first inconsistency of the table: a duplicate path, a
// site without a catalog, or an entry that reads a nested block for which
// no site of its catalog has a nested site. (A catalog may serve several
// sites, an attention at model.attention and at model.attention.head: an
// entry that reads a nested block is then usable only where the table has
// that nested site.) Tests call it; a table that fails it is a programmer
// error.
func (s Sites) Check() error {
	seen := map[string]bool{}
	for _, st := range s {
		if st.Path == "" || st.Catalog == nil || reflect.ValueOf(st.Catalog).IsNil() {
			return fmt.Errorf("registry: site %q has no path or no catalog", st.Path)
		}
		if seen[st.Path] {
			return fmt.Errorf("registry: site %q is in the table twice", st.Path)
		}
		seen[st.Path] = true
	}
	for _, st := range s {
		for _, info := range st.Catalog.Infos() {
			for _, u := range info.Uses {
				found := false
				for _, other := range s {
					if other.Catalog == st.Catalog && seen[other.Path+"."+u] {
						found = true
					}
				}
				if !found {
					return fmt.Errorf("registry: %s %q reads %s, but no site %s.%s is in the table", info.Kind, info.Name, u, st.Path, u)
				}
			}
		}
	}
	return nil
}

// cutLast splits "a.b.c" into "a.b" and "c".
func cutLast(path string) (parent, key string, ok bool) {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return "", path, false
	}
	return path[:i], path[i+1:], true
}

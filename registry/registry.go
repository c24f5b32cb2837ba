package registry

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Entry is one plugin: a name, a one-line doc, the default parameter
// struct, a factory, and what the plugin is (its capabilities) and reads
// besides its parameters (its sub-blocks).
//
// Params is a pointer to a struct holding the plugin's defaults (nil when the
// plugin takes no parameters). Its exported fields carry a `yaml:"name"` tag
// (the key users write) and a `doc:"..."` tag (one line shown by
// `attnlab list`); a field of type [Plugin] is a nested plugin block.
// Factories receive a fresh copy of that struct, decoded from the user's
// parameters by [Entry.Decode].
//
// Uses lists the keys of plugin blocks, nested in this entry's block, that
// the entry reads but that are not fields of Params: a model's encoder and
// attention, handed to its factory by other means. Caps lists the entry's
// capabilities, which other packages ask about ([Info.Has]) instead of
// checking names.
type Entry[F any] struct {
	Name   string
	Doc    string
	Params any
	New    F
	Uses   []string
	Caps   []Capability
}

// Registry maps names to entries of one kind ("attention", "task", ...).
// It is safe for concurrent use. The zero value is not usable: call [New].
type Registry[F any] struct {
	kind string
	mu   sync.RWMutex
	m    map[string]Entry[F]
}

// New returns an empty registry for plugins of the given kind. The kind is
// used in error messages: `attention: unknown variant "adittive" (known: ...)`.
func New[F any](kind string) *Registry[F] {
	return &Registry[F]{kind: kind, m: make(map[string]Entry[F])}
}

// Kind returns the kind given to [New].
func (r *Registry[F]) Kind() string { return r.kind }

// Register adds e. It panics on an empty name, a nil factory, a Params value
// that is not a pointer to a struct, or a duplicate name: these are
// programmer errors at init time, as with database/sql.Register.
func (r *Registry[F]) Register(e Entry[F]) {
	if e.Name == "" {
		panic(fmt.Sprintf("registry %s: Register with an empty name", r.kind))
	}
	if v := reflect.ValueOf(e.New); !v.IsValid() || (v.Kind() == reflect.Func && v.IsNil()) {
		panic(fmt.Sprintf("registry %s: Register %q with a nil factory", r.kind, e.Name))
	}
	if e.Params != nil {
		t := reflect.TypeOf(e.Params)
		if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
			panic(fmt.Sprintf("registry %s: Register %q: Params must be a pointer to a struct, got %T", r.kind, e.Name, e.Params))
		}
		fields, err := fieldsOf(t.Elem())
		if err != nil {
			panic(fmt.Sprintf("registry %s: Register %q: %v", r.kind, e.Name, err))
		}
		for _, f := range fields {
			if slices.Contains(e.Uses, f.key) {
				panic(fmt.Sprintf("registry %s: Register %q: %s is both a parameter and in Uses", r.kind, e.Name, f.key))
			}
			if f.rng != nil {
				if key, msg := checkField(*f.rng, f.key, reflect.ValueOf(e.Params).Elem().Field(f.index)); msg != "" {
					panic(fmt.Sprintf("registry %s: Register %q: default %s: %s", r.kind, e.Name, key, msg))
				}
			}
		}
	}
	for _, u := range e.Uses {
		if u == "" || u == "name" {
			panic(fmt.Sprintf("registry %s: Register %q: Uses holds %q", r.kind, e.Name, u))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[e.Name]; dup {
		panic(fmt.Sprintf("registry %s: Register called twice for %q", r.kind, e.Name))
	}
	r.m[e.Name] = e
}

// Unregister removes the entry registered under name, if any. It is for
// tests that register a throwaway entry (to show that a new plugin is one
// file) and must leave the registry as they found it.
func (r *Registry[F]) Unregister(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, name)
}

// Lookup returns the entry registered under name, or an *UnknownError that
// lists the known names.
func (r *Registry[F]) Lookup(name string) (Entry[F], error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.m[name]
	if !ok {
		return Entry[F]{}, &UnknownError{Kind: r.kind, Name: name, Known: r.namesLocked()}
	}
	return e, nil
}

// Build looks name up in r, decodes params strictly into the entry's
// parameter struct (see [Entry.Decode]) and hands the entry's factory and
// the decoded parameters to build, which calls the factory with the rest of
// its arguments. Lookup and decoding errors are returned as they are.
func Build[F, T any](r *Registry[F], name string, params map[string]any, build func(f F, p any) (T, error)) (T, error) {
	var zero T
	e, err := r.Lookup(name)
	if err != nil {
		return zero, err
	}
	p, err := e.Decode(r.Kind(), params)
	if err != nil {
		return zero, err
	}
	return build(e.New, p)
}

// Has reports whether name is registered.
func (r *Registry[F]) Has(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.m[name]
	return ok
}

// Names returns the registered names, sorted.
func (r *Registry[F]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.namesLocked()
}

// Entries returns every entry, sorted by name.
func (r *Registry[F]) Entries() []Entry[F] {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Entry[F], 0, len(r.m))
	for _, n := range r.namesLocked() {
		out = append(out, r.m[n])
	}
	return out
}

func (r *Registry[F]) namesLocked() []string {
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Defaults returns a fresh copy of the entry's default parameters (a pointer
// to a new struct), or nil when the entry takes no parameters.
func (e Entry[F]) Defaults() any {
	if e.Params == nil {
		return nil
	}
	return copyParams(e.Params)
}

// Describe lists the entry's parameters (see [Describe]).
func (e Entry[F]) Describe() []ParamInfo { return Describe(e.Params) }

// Decode returns a fresh copy of the entry's defaults with the values of m
// applied, strictly, and then checked by the struct's Validate method. An
// unknown key or a value of the wrong type is a [*ParamError] naming the key
// and the plugin; every such key is reported, as a [ParamErrors] value, and
// Validate runs only when there are none. kind is the registry kind, used
// in messages.
func (e Entry[F]) Decode(kind string, m map[string]any) (any, error) {
	return decodeParams(kind, e.Name, e.Params, m, DecodeOptions{})
}

// DecodeOptions control [Info.Decode].
type DecodeOptions struct {
	// NoValidate skips the parameter struct's Validate method: only the
	// keys and the types of their values are checked.
	NoValidate bool
}

func decodeParams(kind, name string, defaults any, m map[string]any, opt DecodeOptions) (any, error) {
	if defaults == nil {
		if len(m) == 0 {
			return nil, nil
		}
		var errs ParamErrors
		for _, k := range sortedKeys(m) {
			errs = append(errs, &ParamError{Kind: kind, Plugin: name, Key: k, Msg: "unknown key (this " + kind + " takes no parameters)", Unknown: true})
		}
		return nil, errs
	}
	p := copyParams(defaults)
	if errs := decodeInto(kind, name, reflect.ValueOf(p).Elem(), m); len(errs) > 0 {
		return nil, errs
	}
	if !opt.NoValidate {
		if err := validate(kind, name, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// copyParams returns a fresh deep copy of a parameter struct pointer.
func copyParams(params any) any {
	src := reflect.ValueOf(params).Elem()
	dst := reflect.New(src.Type())
	dst.Elem().Set(deepCopy(src))
	return dst.Interface()
}

// UnknownError is returned by Lookup for a name that is not registered.
type UnknownError struct {
	Kind  string
	Name  string
	Known []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("%s: unknown name %q (known: %s)", e.Kind, e.Name, strings.Join(e.Known, ", "))
}

// ParamError is a problem with one key of a plugin's parameters (Key ""
// for a problem of the whole block that Validate did not pin on a key).
type ParamError struct {
	Kind    string // registry kind, e.g. "attention"
	Plugin  string // entry name, e.g. "multi-head"
	Key     string // the parameter key as the user wrote it; a list item is key[i] (ItemKey)
	Msg     string
	Unknown bool // Key is not a parameter of the plugin
	// Want is, for a value of the wrong type, the type the parameter
	// takes ("string", "list of int"); "" for other problems.
	Want string
}

func (e *ParamError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s for %s %q", e.Msg, e.Kind, e.Plugin)
	}
	return fmt.Sprintf("%s: %s for %s %q", e.Key, e.Msg, e.Kind, e.Plugin)
}

// ParamErrors is every problem found in one plugin's parameters, in key
// order: what Decode returns. errors.As finds its first *ParamError.
type ParamErrors []*ParamError

// Error joins the problems with "; ".
func (es ParamErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (es ParamErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

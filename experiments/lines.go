package experiments

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// source is one configuration layer as written: an experiment file, a base
// it extends, or the --set overrides.
type source struct {
	file string // as shown in errors
	rank int    // 0 for the experiment file, then its bases, then --set
	text []byte
	// lines maps every key path the layer writes (dotted; list items as
	// key[i]) to its line; --set paths map to 0.
	lines map[string]int
	// stamps holds the text of scalars YAML resolves as timestamps, by path,
	// so that they stay strings.
	stamps map[string]string
	// extends is the node of the layer's top-level extends key, if any.
	extends     *yaml.Node
	extendsLine int
}

// maxNodes bounds the YAML nodes walked per file (aliases included), so that
// an alias bomb costs nothing.
const maxNodes = 100_000

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseSource checks a file's YAML and records the line of every key. It
// reports syntax errors, an empty file, a top level that is not a mapping,
// keys that are not scalars and duplicate keys.
func parseSource(s *source) Errors {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(s.text))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return Errors{yamlError(s, err)}
	}
	// One document per file: a second one (after ---) would be ignored.
	var second yaml.Node
	if err := dec.Decode(&second); err == nil && len(second.Content) > 0 && second.Content[0].ShortTag() != "!!null" {
		return Errors{s.errorf(second.Line, "", "a second YAML document: an experiment file holds one (extends: combines files)")}
	} else if err != nil && !errors.Is(err, io.EOF) {
		return Errors{yamlError(s, err)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].ShortTag() == "!!null") {
		return Errors{s.errorf(0, "", "empty experiment file: write at least name and task")}
	}
	root := doc.Content[0]
	for root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	if root.Kind != yaml.MappingNode {
		return Errors{s.errorf(root.Line, "", "want a mapping of keys at the top level, got %s", nodeKind(root))}
	}
	w := &walker{src: s, budget: maxNodes}
	s.lines, s.stamps = map[string]int{}, map[string]string{}
	w.walk(root, "", 0)
	if w.budget < 0 {
		w.errs = append(w.errs, s.errorf(root.Line, "", "document too large or too many aliases"))
	}
	return w.errs
}

func yamlError(s *source, err error) *ConfigError {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = "yaml: " + te.Errors[0]
	}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return s.errorf(line, "", "%s", m[2])
	}
	return s.errorf(0, "", "%s", msg)
}

func (s *source) errorf(line int, key, format string, args ...any) *ConfigError {
	return &ConfigError{File: s.file, Line: line, Key: key, Msg: sprintf(format, args...), rank: s.rank}
}

type walker struct {
	src    *source
	budget int
	errs   Errors
}

func (w *walker) walk(n *yaml.Node, path string, depth int) {
	w.budget--
	if w.budget < 0 || depth > 100 {
		w.budget = -1
		return
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias != nil {
			w.walk(n.Alias, path, depth+1)
		}
	case yaml.ScalarNode:
		if n.ShortTag() == "!!timestamp" {
			w.src.stamps[path] = n.Value
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			if _, ok := w.src.lines[p]; !ok {
				w.src.lines[p] = item.Line
			}
			w.walk(item, p, depth+1)
		}
	case yaml.MappingNode:
		seen := map[string]int{}
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				w.errs = append(w.errs, w.src.errorf(k.Line, path, "a key must be a plain string, got %s", nodeKind(k)))
				continue
			}
			if k.ShortTag() == "!!merge" {
				merges = append(merges, v)
				continue
			}
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if first, dup := seen[k.Value]; dup {
				w.errs = append(w.errs, w.src.errorf(k.Line, p, "key already defined at line %d", first))
				continue
			}
			seen[k.Value] = k.Line
			w.src.lines[p] = k.Line
			if path == "" && k.Value == "extends" {
				w.src.extends, w.src.extendsLine = v, k.Line
			}
			w.walk(v, p, depth+1)
		}
		// Keys merged in with <<: lie under the mapping's own keys.
		for _, m := range merges {
			w.walk(m, path, depth+1)
		}
	}
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return "the scalar " + strconv.Quote(shorten(n.Value))
}

// normalize makes a parsed YAML tree JSON-friendly in place: maps with
// non-string keys get string keys, timestamps go back to their text, and
// sized integers become int where they fit.
func (s *source) normalize(v any, path string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = s.normalize(e, joinPath(path, k))
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks := sprintf("%v", k)
			out[ks] = s.normalize(e, joinPath(path, ks))
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = s.normalize(e, path+"["+strconv.Itoa(i)+"]")
		}
		return x
	case time.Time:
		if t, ok := s.stamps[path]; ok {
			return t
		}
		return x.Format(time.RFC3339Nano)
	case int64:
		if i, ok := asInt(x); ok {
			return i
		}
	case uint64:
		if i, ok := asInt(x); ok {
			return i
		}
		return float64(x)
	}
	return v
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

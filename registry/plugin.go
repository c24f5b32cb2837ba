package registry

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Plugin names a registry entry and carries its parameters as plain values:
// the YAML block of a plugin site (`{name: additive, dim: 128}`) with the
// name taken out. Values are JSON-friendly: string, int, float64, bool, a
// slice of those, or, for a nested plugin block, a map[string]any holding
// its name and parameters. In a resolved configuration Params holds every
// parameter of the entry, defaults filled, and is empty, not nil, for an
// entry without parameters.
//
// Plugin marshals to JSON flat, as in YAML: {"name": ..., key: value...}.
// A parameter struct may hold a Plugin field: a nested plugin block whose
// registry the experiment format's site table names (see [Sites]).
type Plugin struct {
	Name   string
	Params map[string]any
}

// Tree returns the block as YAML writes it: the parameters with the name
// beside them, deep-copied.
func (p Plugin) Tree() map[string]any {
	m := make(map[string]any, len(p.Params)+1)
	for k, v := range p.Params {
		m[k] = CloneValue(v)
	}
	m["name"] = p.Name
	return m
}

// Clone returns a deep copy of p.
func (p Plugin) Clone() Plugin {
	var params map[string]any
	if p.Params != nil {
		params = make(map[string]any, len(p.Params))
		for k, v := range p.Params {
			params[k] = CloneValue(v)
		}
	}
	return Plugin{Name: p.Name, Params: params}
}

// MarshalJSON writes the plugin flat, as in YAML: {"name": ..., key: value...}.
func (p Plugin) MarshalJSON() ([]byte, error) { return json.Marshal(p.Tree()) }

// UnmarshalJSON reads what MarshalJSON wrote. Numbers become float64.
//
// It also reads the shape that runs stored before the flat form were
// written in, {"Name": ..., "Params": {...}} (the struct's default JSON),
// so that their model specs still load: no parameter key is capitalised,
// so the two cannot be confused.
func (p *Plugin) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if old, ok := legacyPlugin(m); ok {
		*p = old
		return nil
	}
	name, ok := m["name"].(string)
	if !ok {
		return fmt.Errorf("registry: plugin block without a name: %s", b)
	}
	delete(m, "name")
	*p = Plugin{Name: name, Params: m}
	return nil
}

// PluginOf reads a plugin block written as a map (its name under "name",
// the parameters beside it), as YAML and JSON decode it, or a Plugin.
func PluginOf(v any) (Plugin, error) {
	switch x := v.(type) {
	case Plugin:
		return x.Clone(), nil
	case *Plugin:
		if x != nil {
			return x.Clone(), nil
		}
	case map[string]any:
		name, ok := x["name"].(string)
		if !ok {
			if _, has := x["name"]; !has {
				return Plugin{}, fmt.Errorf("want a map with a name key, got a map without one")
			}
			return Plugin{}, fmt.Errorf("name: want string, got %s %s", describeKind(x["name"]), shortValue(x["name"]))
		}
		params := make(map[string]any, len(x))
		for k, e := range x {
			if k != "name" {
				params[k] = CloneValue(e)
			}
		}
		return Plugin{Name: name, Params: params}, nil
	}
	return Plugin{}, fmt.Errorf("want a map with a name key, got %s %s", describeKind(v), shortValue(v))
}

// CloneValue deep-copies the maps and slices of a plain configuration value.
func CloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range maps.All(x) {
			out[k] = CloneValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = CloneValue(e)
		}
		return out
	case []int:
		return slices.Clone(x)
	case []float64:
		return slices.Clone(x)
	case []string:
		return slices.Clone(x)
	case []bool:
		return slices.Clone(x)
	case Plugin:
		return x.Clone()
	}
	return v
}

// legacyPlugin reads the old JSON shape of a Plugin, {"Name": ...,
// "Params": {...}} with no other key; nested plugin blocks in Params stay
// maps in that shape's own form, as PluginOf reads them.
func legacyPlugin(m map[string]any) (Plugin, bool) {
	name, ok := m["Name"].(string)
	if !ok || len(m) > 2 {
		return Plugin{}, false
	}
	params := map[string]any{}
	switch x := m["Params"].(type) {
	case nil:
		if _, has := m["Params"]; !has && len(m) > 1 {
			return Plugin{}, false
		}
	case map[string]any:
		for k, v := range x {
			params[k] = legacyValue(v)
		}
	default:
		return Plugin{}, false
	}
	return Plugin{Name: name, Params: params}, true
}

// legacyValue turns a nested plugin block of the old shape into the flat
// map PluginOf reads; other values are returned as they are.
func legacyValue(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if old, ok := legacyPlugin(m); ok {
		return old.Tree()
	}
	return m
}

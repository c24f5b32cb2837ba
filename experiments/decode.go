package experiments

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/registry"
)

var pluginType = reflect.TypeFor[registry.Plugin]()

// structTree returns the exported json-tagged fields of a struct as a map
// with Go-typed leaves; Plugin fields become their flat blocks. Fields
// tagged identity:"-" are left out, and so are fields tagged
// identity:"omitempty" while zero or empty (a key added later leaves the
// identity of the runs that do not use it unchanged). A field tagged
// identity:"fixed=V" (an integer) is recorded as V whatever its value
// when canonical is true (the run's identity): a setting that stopped
// changing what a run computes keeps the identity of the runs stored with
// V; otherwise (the defaults layer) it holds its value.
func structTree(s any, canonical bool) map[string]any {
	v := reflect.ValueOf(s)
	t := v.Type()
	out := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		key := jsonKey(f)
		if key == "" || f.Tag.Get("identity") == "-" {
			continue
		}
		fv := v.Field(i)
		if f.Tag.Get("identity") == "omitempty" && (fv.IsZero() || fv.Kind() == reflect.Slice && fv.Len() == 0) {
			continue
		}
		if v, ok := strings.CutPrefix(f.Tag.Get("identity"), "fixed="); ok && canonical {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || !fv.CanInt() {
				panic(fmt.Sprintf("experiments: field %s: bad identity tag %q", f.Name, f.Tag.Get("identity")))
			}
			fixed := reflect.New(f.Type).Elem()
			fixed.SetInt(n)
			out[key] = registry.PlainValue(fixed)
			continue
		}
		switch {
		case f.Type == pluginType:
			out[key] = fv.Interface().(registry.Plugin).Tree()
		case f.Type.Kind() == reflect.Struct:
			out[key] = structTree(fv.Interface(), canonical)
		default:
			out[key] = registry.PlainValue(fv)
		}
	}
	return out
}

func jsonKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if key == "-" {
		return ""
	}
	return key
}

// taggedField is a json-tagged field of a settings struct: its key, its
// dotted path, its declaration and its value.
type taggedField struct {
	key, path string
	field     reflect.StructField
	value     reflect.Value
}

// taggedFields lists the json-tagged fields of the struct v in field order,
// each with its dotted path under prefix (see jsonKey).
func taggedFields(prefix string, v reflect.Value) []taggedField {
	var out []taggedField
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := jsonKey(f)
		if key == "" {
			continue
		}
		out = append(out, taggedField{key: key, path: prefix + "." + key, field: f, value: v.Field(i)})
	}
	return out
}

// structKeys lists the json keys of a struct type in field order.
func structKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if k := jsonKey(t.Field(i)); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// decodeStruct sets the fields of the struct dst points to from m,
// strictly: an unknown key, a value of the wrong type or a null is reported
// through bad (with the dotted path under prefix) and leaves the field as
// it was. Plugin fields are left to the caller. No weak typing: "4" is not
// an int, and a float is an int only when it is integral.
func decodeStruct(prefix string, dst any, m map[string]any, bad func(key string, err error)) {
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	byKey := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if k := jsonKey(t.Field(i)); k != "" {
			byKey[k] = i
		}
	}
	for _, k := range sortedKeys(m) {
		path := prefix + "." + k
		i, ok := byKey[k]
		if !ok {
			bad(path, errors.New("unknown key (known: "+strings.Join(structKeys(t), ", ")+")"+didYouMean(k, structKeys(t))))
			continue
		}
		f := v.Field(i)
		switch {
		case f.Type() == pluginType:
			continue
		case f.Kind() == reflect.Struct:
			sub, ok := asMap(m[k])
			if !ok {
				bad(path, errors.New("want a map, got "+describe(m[k])))
				continue
			}
			decodeStruct(path, f.Addr().Interface(), sub, bad)
		default:
			var rng *registry.Range
			if tag, ok := t.Field(i).Tag.Lookup("range"); ok {
				r, err := registry.ParseRange(tag)
				if err != nil {
					panic(fmt.Sprintf("experiments: %s: %v", path, err))
				}
				rng = &r
			}
			if err := setField(f, m[k], rng); err != nil {
				var ie *registry.ItemError
				if errors.As(err, &ie) {
					path, err = registry.ItemKey(path, ie.Index), ie.Err
				}
				bad(path, err)
			}
		}
	}
}

// setField sets dst to val, strictly; rng is the field's range tag (nil:
// none), which a whole number too large for an int is said to be out of.
func setField(dst reflect.Value, val any, rng *registry.Range) error {
	switch dst.Kind() {
	case reflect.Int:
		if msg, big := tooLargeInt(rng, val); big {
			return errors.New(msg)
		}
		i, ok := asInt(val)
		if !ok {
			return mismatch("int", val)
		}
		dst.SetInt(int64(i))
	case reflect.Float64:
		f, ok := asFloat(val)
		if !ok {
			return mismatch("float", val)
		}
		dst.SetFloat(f)
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return mismatch("bool", val)
		}
		dst.SetBool(b)
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return mismatch("string", val)
		}
		dst.SetString(s)
	case reflect.Slice:
		items, ok := val.([]any)
		if !ok {
			return mismatch("list of "+dst.Type().Elem().Kind().String(), val)
		}
		out := reflect.MakeSlice(dst.Type(), len(items), len(items))
		for i, it := range items {
			if err := setField(out.Index(i), it, rng); err != nil {
				return &registry.ItemError{Index: i, Err: err}
			}
		}
		dst.Set(out)
	default:
		panic(fmt.Sprintf("experiments: unsupported field type %s", dst.Type()))
	}
	return nil
}

// mismatchError is a value of another type than the one wanted.
type mismatchError struct {
	want string
	val  any
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("want %s, got %s%s", e.want, describe(e.val), registry.MismatchHint(e.want, e.val))
}

func mismatch(want string, val any) error { return &mismatchError{want, val} }

// describe names a value's kind and shows it briefly: `string "x"`, `int 3`,
// `null`, `map with the keys a, b`, `an empty map`, `list [1 2]`.
func describe(val any) string {
	var kind string
	switch x := val.(type) {
	case nil:
		return "null"
	case string:
		return "string " + shorten(strconv.Quote(x))
	case bool:
		kind = "bool"
	case int, int64, uint64:
		kind = "int"
	case float64:
		kind = "float"
	case map[string]any:
		if len(x) == 0 {
			return "an empty map"
		}
		if len(x) == 1 {
			return "map with the key " + shorten(sortedKeys(x)[0])
		}
		return "map with the keys " + shorten(strings.Join(sortedKeys(x), ", "))
	case []any:
		kind = "list"
	default:
		kind = fmt.Sprintf("%T", val)
	}
	return kind + " " + shorten(fmt.Sprint(val))
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// tooLargeInt is registry.TooLargeInt for the int that a field, a seed or
// a sample count is here: where int has 32 bits (386, arm), a whole number
// beyond it, which YAML reads as an int64, a uint64 or a float below 2^53,
// is too large as well ("must be in [1, 65536], got 4294967296", as with
// 64 bits, not "want int, got int 4294967296"). With 64-bit ints it is
// registry.TooLargeInt.
func tooLargeInt(r *registry.Range, val any) (msg string, ok bool) {
	if msg, big := registry.TooLargeInt(r, val); big {
		return msg, true
	}
	var n int64
	switch x := val.(type) {
	case int64:
		n = x
	case uint64:
		n = int64(x) // below 2^63: registry.TooLargeInt took the others
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return "", false
		}
		n = int64(x) // below 2^53: registry.TooLargeInt took the others
	default:
		return "", false
	}
	if n >= math.MinInt && n <= math.MaxInt {
		return "", false
	}
	if r == nil {
		return fmt.Sprintf("beyond the range of an integer, got %d", n), true
	}
	return r.Explain(n), true
}

// asInt accepts the integer types of decoded YAML/JSON and integral floats.
func asInt(val any) (int, bool) {
	switch x := val.(type) {
	case int:
		return x, true
	case int64:
		if x >= math.MinInt && x <= math.MaxInt {
			return int(x), true
		}
	case uint64:
		if x <= math.MaxInt {
			return int(x), true
		}
	case float64:
		// int(x) of a float beyond the int is not an error but an
		// implementation-defined value (-2^31 on 386 for 3e9): with 32-bit
		// ints the bounds of an int come before those of a float64.
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 && x >= math.MinInt && x <= math.MaxInt {
			return int(x), true
		}
	}
	return 0, false
}

func asFloat(val any) (float64, bool) {
	switch x := val.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

func asMap(val any) (map[string]any, bool) {
	m, ok := val.(map[string]any)
	return m, ok
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkTags checks every field of the struct s against its range and enum
// tags (nested structs too, list items one by one), reporting through bad
// with the dotted path under prefix.
func checkTags(prefix string, s any, bad func(key, msg string)) {
	for _, tf := range taggedFields(prefix, reflect.ValueOf(s)) {
		key, path, f, fv := tf.key, tf.path, tf.field, tf.value
		if fv.Kind() == reflect.Struct && f.Type != pluginType {
			checkTags(path, fv.Interface(), bad)
			continue
		}
		if tag, ok := f.Tag.Lookup("range"); ok {
			rng, err := registry.ParseRange(tag)
			if err != nil {
				panic(fmt.Sprintf("experiments: %s: %v", path, err))
			}
			if fv.Kind() == reflect.Slice {
				for j := range fv.Len() {
					if msg := registry.CheckRange(rng, fv.Index(j)); msg != "" {
						bad(registry.ItemKey(path, j), msg)
					}
				}
			} else if msg := registry.CheckRange(rng, fv); msg != "" {
				bad(path, msg)
			}
		}
		if tag, ok := f.Tag.Lookup("enum"); ok {
			if choices := strings.Split(tag, ","); !slices.Contains(choices, fv.String()) {
				bad(path, fmt.Sprintf("unknown %s %q (known: %s)%s", key, fv.String(), strings.Join(choices, ", "), didYouMean(fv.String(), choices)))
			}
		}
	}
}

package registry

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/internal/floatlit"
)

// ParamInfo describes one parameter of a plugin, for `attnlab list`.
type ParamInfo struct {
	Name    string // the YAML key
	Type    string // int, float, bool, string, list of int, ..., plugin (a nested block)
	Default string // the default value, formatted
	Doc     string // one line
	Range   string // the allowed values of a number from its range tag ("≥ 1", "[0, 1)"), or ""
}

// Validator is implemented by parameter structs that check their own ranges
// after decoding. Return [Invalid] errors so the key is named.
type Validator interface {
	Validate() error
}

// Linter is implemented by parameter structs with checks that only new
// experiments get — plan, run and submit call [Info.Lint] — and not a
// stored run's configuration when it is rebuilt (a worker resuming it,
// generate, eval: [Build] and Decode run Validate only): a setting that an
// earlier version accepted and ignored, which a later one refuses, must
// not make the runs stored with it unusable. Return [Invalid] errors so
// the key is named.
type Linter interface {
	Lint() error
}

// Invalid returns a *ParamError for key, for use in Validate methods; the
// registry fills in the plugin's kind and name.
func Invalid(key, format string, args ...any) error {
	return &ParamError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

type field struct {
	key   string
	doc   string
	index int
	typ   reflect.Type
	rng   *Range // from the range tag, for numbers and lists of numbers
}

// fieldsOf lists the settable fields of a parameter struct type. Every
// exported field must carry a yaml tag; a range tag must parse and belong
// to a number or a list of numbers.
func fieldsOf(t reflect.Type) ([]field, error) {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			return nil, fmt.Errorf("field %s has no yaml tag", f.Name)
		}
		if typeName(f.Type) == "" {
			return nil, fmt.Errorf("field %s has unsupported type %s", f.Name, f.Type)
		}
		fd := field{key: key, doc: f.Tag.Get("doc"), index: i, typ: f.Type}
		if tag, ok := f.Tag.Lookup("range"); ok {
			r, err := ParseRange(tag)
			if err != nil {
				return nil, fmt.Errorf("field %s: %v", f.Name, err)
			}
			if !isNumber(f.Type) && !(f.Type.Kind() == reflect.Slice && isNumber(f.Type.Elem())) {
				return nil, fmt.Errorf("field %s: a range tag on a %s", f.Name, typeName(f.Type))
			}
			fd.rng = &r
		}
		out = append(out, fd)
	}
	return out, nil
}

func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// CheckRange checks a decoded number against r and returns what is wrong
// with it, or "" (also for a value that is not a number: check a list item
// by item, naming each as key[i]).
func CheckRange(r Range, v reflect.Value) string {
	var x float64
	var shown any
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, shown = float64(v.Int()), v.Int()
	case reflect.Float32, reflect.Float64:
		x, shown = v.Float(), v.Float()
	default:
		return ""
	}
	if r.Contains(x) {
		return ""
	}
	return r.Explain(shown)
}

// checkField checks the value v of the field key against r: a number,
// or each item of a list (named key[i]). It returns the key of the first
// value out of range and what is wrong with it, or "", "".
func checkField(r Range, key string, v reflect.Value) (string, string) {
	if v.Kind() != reflect.Slice {
		return key, CheckRange(r, v)
	}
	for i := range v.Len() {
		if msg := CheckRange(r, v.Index(i)); msg != "" {
			return ItemKey(key, i), msg
		}
	}
	return "", ""
}

var pluginType = reflect.TypeFor[Plugin]()

func typeName(t reflect.Type) string {
	if t == pluginType {
		return "plugin"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.String:
		return "string"
	case reflect.Slice:
		if e := typeName(t.Elem()); e != "" && t.Elem().Kind() != reflect.Slice {
			return "list of " + e
		}
	}
	return ""
}

// Describe lists the parameters of a parameter struct pointer (nil gives
// nil), in field order, with their defaults.
func Describe(params any) []ParamInfo {
	if params == nil {
		return nil
	}
	v := reflect.ValueOf(params).Elem()
	fields, err := fieldsOf(v.Type())
	if err != nil {
		panic(err) // Register already rejected such structs
	}
	out := make([]ParamInfo, 0, len(fields))
	for _, f := range fields {
		pi := ParamInfo{Name: f.key, Type: typeName(f.typ), Default: formatValue(v.Field(f.index)), Doc: f.doc}
		if f.rng != nil {
			pi.Range = f.rng.String()
		}
		out = append(out, pi)
	}
	return out
}

// Keys returns the YAML keys of a parameter struct pointer, in field order.
func Keys(params any) []string {
	var keys []string
	for _, p := range Describe(params) {
		keys = append(keys, p.Name)
	}
	return keys
}

func formatValue(v reflect.Value) string {
	if v.Type() == pluginType {
		return v.Interface().(Plugin).Name
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.String:
		if v.String() == "" {
			return `""`
		}
		return v.String()
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			e := v.Index(i)
			parts[i] = formatValue(e)
			if e.Kind() == reflect.String && needsQuotes(e.String()) {
				parts[i] = strconv.Quote(e.String())
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// needsQuotes reports whether s, as an element of a YAML flow list, must be
// quoted to read back as one string: it holds a separator or an indicator
// of YAML's flow syntax, or starts or ends with a space.
func needsQuotes(s string) bool {
	return s != "" && (strings.ContainsAny(s, ",[]{}:#&*!|>'\"%@`") || strings.TrimSpace(s) != s)
}

// decodeInto applies m to the struct dst, key by key in sorted order, and
// returns a *ParamError for every unknown key and every value of the wrong
// type (the field keeps its default then).
func decodeInto(kind, plugin string, dst reflect.Value, m map[string]any) ParamErrors {
	fields, err := fieldsOf(dst.Type())
	if err != nil {
		return ParamErrors{{Kind: kind, Plugin: plugin, Msg: err.Error()}}
	}
	byKey := make(map[string]field, len(fields))
	known := make([]string, 0, len(fields))
	for _, f := range fields {
		byKey[f.key] = f
		known = append(known, f.key)
	}
	var errs ParamErrors
	for _, k := range sortedKeys(m) {
		f, ok := byKey[k]
		if !ok {
			errs = append(errs, &ParamError{Kind: kind, Plugin: plugin, Key: k, Msg: "unknown key (known: " + strings.Join(known, ", ") + ")", Unknown: true})
			continue
		}
		if err := setValue(dst.Field(f.index), m[k], f.rng); err != nil {
			key := k
			var ie *ItemError
			if errors.As(err, &ie) {
				key, err = ItemKey(k, ie.Index), ie.Err
			}
			pe := &ParamError{Kind: kind, Plugin: plugin, Key: key, Msg: err.Error()}
			if me := (*mismatchError)(nil); errors.As(err, &me) {
				pe.Want = me.want
			}
			errs = append(errs, pe)
			continue
		}
		if f.rng != nil {
			if key, msg := checkField(*f.rng, k, dst.Field(f.index)); msg != "" {
				errs = append(errs, &ParamError{Kind: kind, Plugin: plugin, Key: key, Msg: msg})
			}
		}
	}
	return errs
}

// validate runs the Validate method of the parameter struct p points to,
// if it has one, and names the plugin in its error.
func validate(kind, plugin string, p any) error {
	v, ok := p.(Validator)
	if !ok {
		return nil
	}
	return named(kind, plugin, v.Validate())
}

// named names the entry in a Validate or Lint method's error, as a
// [ParamErrors] value of one problem.
func named(kind, plugin string, err error) error {
	if err == nil {
		return nil
	}
	var pe *ParamError
	if errors.As(err, &pe) {
		pe.Kind, pe.Plugin = kind, plugin
		return ParamErrors{pe}
	}
	return ParamErrors{{Kind: kind, Plugin: plugin, Msg: err.Error()}}
}

// setValue assigns a decoded YAML/JSON value to dst without weak typing:
// a string never becomes a number, and a float becomes an int only when it
// is integral (JSON numbers are float64). rng is the field's range (nil:
// none), which a whole number too large for an int is said to be out of.
func setValue(dst reflect.Value, val any, rng *Range) error {
	want := typeName(dst.Type())
	if val == nil {
		return fmt.Errorf("want %s, got null", want)
	}
	if dst.Type() == pluginType {
		p, err := PluginOf(val)
		if err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(p))
		return nil
	}
	switch dst.Kind() {
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return mismatch(want, val)
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := asInt(val)
		if msg, big := TooLargeInt(rng, val); big {
			return errors.New(msg)
		}
		if !ok {
			return mismatch(want, val)
		}
		if dst.OverflowInt(i) {
			return fmt.Errorf("value %d out of range", i)
		}
		dst.SetInt(i)
	case reflect.Float32, reflect.Float64:
		f, ok := asFloat(val)
		if !ok {
			return mismatch(want, val)
		}
		dst.SetFloat(f)
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return mismatch(want, val)
		}
		dst.SetString(s)
	case reflect.Slice:
		rv := reflect.ValueOf(val)
		if rv.Kind() != reflect.Slice {
			return mismatch(want, val)
		}
		out := reflect.MakeSlice(dst.Type(), rv.Len(), rv.Len())
		for i := 0; i < rv.Len(); i++ {
			if err := setValue(out.Index(i), rv.Index(i).Interface(), rng); err != nil {
				return &ItemError{Index: i, Err: err}
			}
		}
		dst.Set(out)
	default:
		return fmt.Errorf("unsupported field type %s", dst.Type())
	}
	return nil
}

// ItemError is the problem of one item of a list value: the decoders
// return it so that the item is named by its path, key[i] (ItemKey), as
// --set and the sweep write it.
type ItemError struct {
	Index int // from 0
	Err   error
}

func (e *ItemError) Error() string { return "[" + strconv.Itoa(e.Index) + "]: " + e.Err.Error() }

// Unwrap returns the item's own problem.
func (e *ItemError) Unwrap() error { return e.Err }

// ItemKey returns the path of item i of the list at key: key[i].
func ItemKey(key string, i int) string { return key + "[" + strconv.Itoa(i) + "]" }

// mismatchError is a value of another type than the one wanted.
type mismatchError struct {
	want string
	val  any
}

func (e *mismatchError) Error() string {
	return fmt.Sprintf("want %s, got %s %s%s", e.want, describeKind(e.val), shortValue(e.val), MismatchHint(e.want, e.val))
}

func mismatch(want string, val any) error { return &mismatchError{want, val} }

// MismatchHint returns how to write a string val that the user most likely
// meant as the wanted type (int, float or bool): "" when there is none.
// "64" is a number in quotes (" (drop the quotes)"), a number of hundreds
// of digits is text to YAML (" (a number too large for an integer)"), and
// yes, no, on and off are YAML 1.1's booleans, text in YAML 1.2 (" (write
// true or false)").
func MismatchHint(want string, val any) string {
	s, ok := val.(string)
	if !ok {
		return ""
	}
	switch want {
	case "bool":
		switch strings.ToLower(s) {
		case "yes", "no", "on", "off", "y", "n":
			return " (write true or false)"
		}
	case "int":
		_, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		switch {
		case err == nil:
			return " (drop the quotes)"
		case errors.Is(err, strconv.ErrRange):
			// YAML reads a number of some 310 digits or more as text:
			// too large for a float64 too.
			return " (a number too large for an integer)"
		}
	case "float":
		t := strings.TrimSpace(s)
		f, err := floatlit.Parse(t)
		switch {
		case errors.Is(err, strconv.ErrRange):
			// YAML reads 1e400 as text: a number out of range is no float.
			return " (a number too large for a float64)"
		case yamlFloat.MatchString(strings.ReplaceAll(t, "_", "")):
			return " (drop the quotes)" // YAML would read it unquoted as a float
		case err != nil && !errors.Is(err, floatlit.ErrUnderflow):
		case math.IsInf(f, 0) || math.IsNaN(f):
			// inf, nan: Go's words, text in YAML.
			return " (YAML writes .inf, -.inf or .nan)"
		case errors.Is(err, floatlit.ErrUnderflow):
			return " (YAML reads a hex float as text; this one is too small for a float64 too: it would read as 0)"
		default:
			// 0x1p-2, quoted or not: YAML has no hex floats.
			return " (YAML reads a hex float as text: write " + strconv.FormatFloat(f, 'g', -1, 64) + ")"
		}
	}
	return ""
}

// yamlFloat is a float as YAML reads one (yaml.v3's resolver, underscores
// dropped): no hex floats, no inf or nan (YAML's are .inf and .nan).
var yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

func describeKind(val any) string {
	switch val.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case float32, float64:
		return "float"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "int"
	case map[string]any:
		return "map"
	}
	if reflect.ValueOf(val).Kind() == reflect.Slice {
		return "list"
	}
	return fmt.Sprintf("%T", val)
}

func shortValue(val any) string {
	s := fmt.Sprintf("%v", val)
	if _, ok := val.(string); ok {
		s = strconv.Quote(s)
	}
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// TooLargeInt says what is wrong with val as an integer setting with
// range r (nil: none) when val is a whole number too large for an int —
// 1e20, 2^63 or -2^63-1, which YAML reads as floats or unsigned — in the
// words of Range.Explain ("must be in [0, 1000], got 1e+20"); ok is false
// for any other value, which asInt either takes or calls a mismatch.
func TooLargeInt(r *Range, val any) (msg string, ok bool) {
	switch x := val.(type) {
	case uint64:
		ok = x > math.MaxInt64
	case uint:
		ok = uint64(x) > math.MaxInt64
	case float64:
		ok = x == math.Trunc(x) && !math.IsInf(x, 0) && math.Abs(x) >= 1<<53
	}
	if !ok {
		return "", false
	}
	if r == nil {
		return fmt.Sprintf("beyond the range of an integer, got %v", val), true
	}
	return r.Explain(val), true
}

func asInt(val any) (int64, bool) {
	switch x := val.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		return int64(x), uint64(x) <= math.MaxInt64
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), uint64(x) <= math.MaxInt64
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case float32:
		if float64(x) == math.Trunc(float64(x)) && math.Abs(float64(x)) < 1<<24 {
			return int64(x), true
		}
	}
	return 0, false
}

func asFloat(val any) (float64, bool) {
	switch x := val.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	if i, ok := asInt(val); ok {
		return float64(i), true
	}
	return 0, false
}

func deepCopy(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	out.Set(v)
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Type() == pluginType && out.Field(i).CanSet() {
			out.Field(i).Set(reflect.ValueOf(f.Interface().(Plugin).Clone()))
			continue
		}
		if f.Kind() == reflect.Slice && !f.IsNil() && out.Field(i).CanSet() {
			c := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
			reflect.Copy(c, f)
			out.Field(i).Set(c)
		}
	}
	return out
}

// Values returns the parameters of a decoded parameter struct pointer as
// plain values by YAML key: int, float64, bool, string, []any of those, and
// a nested plugin's block as a map (see [Plugin.Tree]). nil gives an empty
// map. It is the inverse of decoding: decoding Values(p) into the entry's
// defaults gives p again.
func Values(params any) map[string]any {
	out := map[string]any{}
	if params == nil {
		return out
	}
	v := reflect.ValueOf(params).Elem()
	fields, err := fieldsOf(v.Type())
	if err != nil {
		panic(err) // Register already rejected such structs
	}
	for _, f := range fields {
		out[f.key] = PlainValue(v.Field(f.index))
	}
	return out
}

// PlainValue returns the value v holds as a plain value, as YAML or JSON
// would give it: an int, a float64, a bool, a string, a []any of those, a
// [Plugin] as its block (see [Plugin.Tree]); any other kind as it is.
func PlainValue(v reflect.Value) any {
	if v.Type() == pluginType {
		return v.Interface().(Plugin).Tree()
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = PlainValue(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

// Number returns the number under key of a block's parameters (an int, an
// int64 or a float64, as YAML and JSON decode them), or 0 when the key is
// absent or holds something else. It is for rough arithmetic on raw
// parameters (memory estimates), not for validation.
func Number(m map[string]any, key string) float64 {
	switch x := m[key].(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

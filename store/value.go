package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Kind is the type of a parameter value, as stored in params.type.
type Kind string

// The kinds of parameter values.
const (
	KindNumber Kind = "number"
	KindText   Kind = "text"
	KindBool   Kind = "bool"
	KindNull   Kind = "null"
)

// Value is a typed parameter value. Numbers are float64 (NaN and ±Inf
// included); the zero Value is null.
type Value struct {
	Kind Kind
	Num  float64
	Text string
	Bool bool
}

// NumberValue, TextValue and BoolValue build Values.
func NumberValue(f float64) Value { return Value{Kind: KindNumber, Num: f} }

// TextValue returns a text Value.
func TextValue(s string) Value { return Value{Kind: KindText, Text: s} }

// BoolValue returns a bool Value.
func BoolValue(b bool) Value { return Value{Kind: KindBool, Bool: b} }

// ValueOf converts a Go value to a Value: every integer and float type and
// json.Number give a number, string gives text, bool gives bool, nil gives
// null, and a Value is returned as is. Other types are an error.
func ValueOf(x any) (Value, error) {
	v, err := valueOf(x)
	if err != nil {
		return Value{}, fmt.Errorf("store: %w", err)
	}
	return v, nil
}

func valueOf(x any) (Value, error) {
	switch x := x.(type) {
	case nil:
		return Value{Kind: KindNull}, nil
	case Value:
		if x.Kind == "" {
			x.Kind = KindNull
		}
		return x, nil
	case string:
		return TextValue(x), nil
	case bool:
		return BoolValue(x), nil
	case float64:
		return NumberValue(x), nil
	case float32:
		return NumberValue(float64(x)), nil
	case int:
		return NumberValue(float64(x)), nil
	case int8:
		return NumberValue(float64(x)), nil
	case int16:
		return NumberValue(float64(x)), nil
	case int32:
		return NumberValue(float64(x)), nil
	case int64:
		return NumberValue(float64(x)), nil
	case uint:
		return NumberValue(float64(x)), nil
	case uint8:
		return NumberValue(float64(x)), nil
	case uint16:
		return NumberValue(float64(x)), nil
	case uint32:
		return NumberValue(float64(x)), nil
	case uint64:
		return NumberValue(float64(x)), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return Value{}, fmt.Errorf("number %q: %w", string(x), err)
		}
		return NumberValue(f), nil
	}
	return Value{}, fmt.Errorf("unsupported value type %T", x)
}

// Any returns the value as float64, string, bool or nil.
func (v Value) Any() any {
	switch v.Kind {
	case KindNumber:
		return v.Num
	case KindText:
		return v.Text
	case KindBool:
		return v.Bool
	}
	return nil
}

// String formats the value: numbers in the shortest form that reads back
// exactly, a whole number below 2^53 in digits (1000000, not 1e+06; a
// filter writes it so too), "NaN", "+Inf", "-Inf" for the special values;
// text as is.
func (v Value) String() string {
	switch v.Kind {
	case KindNumber:
		if v.Num == math.Trunc(v.Num) && math.Abs(v.Num) < maxExact {
			// A whole number as typed, seed = 20240101: not 2.0240101e+07.
			return strconv.FormatFloat(v.Num, 'f', -1, 64)
		}
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case KindText:
		return v.Text
	case KindBool:
		return strconv.FormatBool(v.Bool)
	}
	return "null"
}

// Equal reports whether two values have the same kind and value; NaN equals
// NaN here, so a stored NaN compares equal to what was written.
func (v Value) Equal(w Value) bool {
	if v.kind() != w.kind() {
		return false
	}
	switch v.kind() {
	case KindNumber:
		return v.Num == w.Num || (math.IsNaN(v.Num) && math.IsNaN(w.Num))
	case KindText:
		return v.Text == w.Text
	case KindBool:
		return v.Bool == w.Bool
	}
	return true
}

func (v Value) kind() Kind {
	if v.Kind == "" {
		return KindNull
	}
	return v.Kind
}

// sqlArgs are the values bound for params.value and params.text_value:
// numbers in value (NULL for NaN; INTEGER on SQLite for integral numbers a
// float64 holds exactly, so the sqlite3 shell prints 3, not 3.0; REAL
// otherwise), bools in value as 0/1, text in text_value; null is NULL in
// both.
func (v Value) sqlArgs() (num, text any) {
	switch v.kind() {
	case KindNumber:
		return numberArg(v.Num), nil
	case KindText:
		return nil, v.Text
	case KindBool:
		if v.Bool {
			return int64(1), nil
		}
		return int64(0), nil
	}
	return nil, nil
}

// sqlArg is the one value a where comparison binds: the number, 0/1 for a
// bool, or the text.
func (v Value) sqlArg() any {
	num, text := v.sqlArgs()
	if v.kind() == KindText {
		return text
	}
	return num
}

func numberArg(f float64) any {
	if math.IsNaN(f) {
		return nil
	}
	if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return int64(f)
	}
	return f
}

// scanValue decodes a params row from its type, value and text_value.
func scanValue(kind string, num, text any) Value {
	switch Kind(kind) {
	case KindNumber:
		switch x := num.(type) {
		case float64:
			return NumberValue(x)
		case int64:
			return NumberValue(float64(x))
		case nil:
			return NumberValue(math.NaN())
		}
	case KindText:
		switch x := text.(type) {
		case string:
			return TextValue(x)
		case []byte:
			return TextValue(string(x))
		}
	case KindBool:
		switch x := num.(type) {
		case int64:
			return BoolValue(x != 0)
		case float64:
			return BoolValue(x != 0)
		}
	}
	return Value{Kind: KindNull}
}

// floatArg is how metric and summary values are bound: a REAL, or NULL for
// NaN (SQLite would turn a NaN double into NULL anyway; doing it here makes
// the encoding explicit and the same on PostgreSQL, whose NaN would equal
// itself and sort above every number). ±Inf are stored as infinities; -0 is
// stored as +0, as SQLite would.
func floatArg(f float64) any {
	if math.IsNaN(f) {
		return nil
	}
	if f == 0 {
		return 0.0
	}
	return f
}

// floatOf decodes a metric or summary value: NULL is NaN.
func floatOf(n sql.NullFloat64) float64 {
	if !n.Valid {
		return math.NaN()
	}
	return n.Float64
}

// Param is one resolved leaf of a run's config: Key is its dotted path
// ("model.attention.name"), Value a number, string, bool, nil or Value
// (see ValueOf).
type Param struct {
	Key   string
	Value any
}

// FlattenConfig turns a JSON object into its leaves, sorted by key: nested
// objects join their keys with '.', arrays are kept whole as compact JSON
// text. EnsureRuns uses it when a RunSpec has no Params.
func FlattenConfig(configJSON string) ([]Param, error) {
	params, err := flatten(configJSON)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return params, nil
}

func flatten(configJSON string) ([]Param, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(configJSON)))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("config JSON: %w", err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("config JSON: want an object, got %T", root)
	}
	var out []Param
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		for k, v := range m {
			key := prefix + k
			switch v := v.(type) {
			case map[string]any:
				if err := walk(key+".", v); err != nil {
					return err
				}
			case []any:
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				out = append(out, Param{Key: key, Value: string(b)})
			default:
				out = append(out, Param{Key: key, Value: v})
			}
		}
		return nil
	}
	if err := walk("", obj); err != nil {
		return nil, fmt.Errorf("config JSON: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

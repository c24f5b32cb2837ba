package store

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestValueOf(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want Value
	}{
		{nil, Value{Kind: KindNull}},
		{"x", TextValue("x")},
		{true, BoolValue(true)},
		{3, NumberValue(3)},
		{int64(-7), NumberValue(-7)},
		{uint8(200), NumberValue(200)},
		{float32(0.5), NumberValue(0.5)},
		{math.Inf(-1), NumberValue(math.Inf(-1))},
		{json.Number("1e-3"), NumberValue(1e-3)},
		{NumberValue(2), NumberValue(2)},
	} {
		got, err := ValueOf(tc.in)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ValueOf(%#v) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := ValueOf([]int{1}); err == nil || err.Error() != "store: unsupported value type []int" {
		t.Errorf("ValueOf([]int) error = %v, want store: unsupported value type []int", err)
	}
}

// TestValueString: a whole number below 2^53 is written in digits (a
// group label of 1000000, not 1e+06), as a filter writes it; others in
// the shortest form that reads back exactly.
func TestValueString(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{NumberValue(1000000), "1000000"},
		{NumberValue(-20240101), "-20240101"},
		{NumberValue(1<<53 - 1), "9007199254740991"},
		{NumberValue(1 << 53), "9.007199254740992e+15"},
		{NumberValue(0.001), "0.001"},
		{NumberValue(1e-5), "1e-05"},
		{NumberValue(2.5e6 + 0.5), "2.5000005e+06"},
		{NumberValue(math.NaN()), "NaN"},
		{NumberValue(math.Inf(1)), "+Inf"},
		{NumberValue(math.Inf(-1)), "-Inf"},
		{TextValue("1e+06"), "1e+06"},
		{BoolValue(true), "true"},
		{Value{Kind: KindNull}, "null"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestFlattenConfig(t *testing.T) {
	got, err := FlattenConfig(`{"model": {"attention": {"name": "dot", "heads": 4}, "sizes": [1, 2]}, "seed": 1, "x": null, "b": false}`)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, p := range got {
		v, err := ValueOf(p.Value)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p.Key+"="+string(v.Kind)+":"+v.String())
	}
	want := "b=bool:false model.attention.heads=number:4 model.attention.name=text:dot model.sizes=text:[1,2] seed=number:1 x=null:null"
	if s := strings.Join(parts, " "); s != want {
		t.Fatalf("FlattenConfig = %s\nwant %s", s, want)
	}
	for _, bad := range []string{`[1]`, `{`, ``} {
		if _, err := FlattenConfig(bad); err == nil || !strings.HasPrefix(err.Error(), "store: config JSON: ") {
			t.Errorf("FlattenConfig(%q) error = %v, want store: config JSON: ...", bad, err)
		}
	}
}

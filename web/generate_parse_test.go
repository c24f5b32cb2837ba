package web

import "testing"

// TestParseSampling: the generate form reads its numbers as attnlab
// generate reads its float flags (floatlit.Parse): a number too small for
// a float64 is refused as written, not read as 0 and then refused as
// "temperature 0", a value the user never gave; a 0 written in hex is 0.
func TestParseSampling(t *testing.T) {
	for _, tc := range []struct {
		temperature, topP string
		want              string // "" for no error
	}{
		{"1", "1", ""},
		{"0x1p-2", "0x1p-1", ""},
		{"1e-400", "1", `temperature "1e-400": too small for a float64: it would read as 0`},
		{"0x1p-2000", "1", `temperature "0x1p-2000": too small for a float64: it would read as 0`},
		{"1", "2.5E-999", `top-p "2.5E-999": too small for a float64: it would read as 0`},
		{"1e400", "1", `temperature "1e400": out of range for a number`},
		{"x", "1", `temperature "x": not a number`},
		{"0x0p-5", "1", "temperature 0: must be a finite number above 0"},
		{"1", "0x0p-5", "top-p 0: must be in (0, 1]"},
	} {
		v := &generateView{Temperature: tc.temperature, TopK: "0", TopP: tc.topP, Seed: "1"}
		var d decoding
		err := parseSampling(v, &d)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("temperature %q, top-p %q: error %q, want %q", tc.temperature, tc.topP, got, tc.want)
		}
	}
}

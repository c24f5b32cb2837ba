package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/spf13/pflag"
)

// TestPlainFlagError: a flag value that a strconv parser refused is said
// in words, found by its error's types (pflag's *InvalidValueError around a
// *strconv.NumError), not by its text: an unknown flag or a custom value's
// error whose text reads like strconv's is left as it was, and so is a
// value error of another cause.
func TestPlainFlagError(t *testing.T) {
	parse := func(args ...string) error {
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		fs.SetOutput(nopWriter{})
		fs.Uint("seed", 0, "")
		fs.IntP("workers", "j", 0, "")
		fs.Float64("lr", 0, "")
		fs.Bool("quiet", false, "")
		fs.IntSlice("lengths", nil, "")
		fs.Var(floatFlag{new(float64)}, "top-p", "")
		fs.Var(echoFlag{}, "echo", "")
		return fs.Parse(args)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--seed", "-1"}, `invalid argument "-1" for "--seed" flag: not a whole number ≥ 0`},
		{[]string{"--seed", "99999999999999999999"}, `invalid argument "99999999999999999999" for "--seed" flag: out of range for a whole number ≥ 0`},
		{[]string{"-j", "x"}, `invalid argument "x" for "-j, --workers" flag: not a whole number`},
		{[]string{"--lr", "1e999"}, `invalid argument "1e999" for "--lr" flag: out of range for a number`},
		{[]string{"--quiet=maybe"}, `invalid argument "maybe" for "--quiet" flag: not true or false`},
		{[]string{"--lengths", "256,x"}, `invalid argument "256,x" for "--lengths" flag: not a whole number`},
		{[]string{"--top-p", "1e-400"}, `invalid argument "1e-400" for "--top-p" flag: too small for a float64: it would read as 0`},
		// Texts that read like strconv's, from no strconv parser.
		{[]string{`--strconv.ParseUint: parsing "1": invalid syntax`}, `unknown flag: --strconv.ParseUint: parsing "1": invalid syntax`},
		{[]string{"--echo", `strconv.Atoi: parsing "2": value out of range`}, `invalid argument "strconv.Atoi: parsing \"2\": value out of range" for "--echo" flag: strconv.Atoi: parsing "2": value out of range`},
	} {
		err := parse(tc.args...)
		if err == nil {
			t.Fatalf("%q parsed", tc.args)
		}
		if got := plainFlagError(err).Error(); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.args, got, tc.want)
		}
	}
	other := fmt.Errorf("bad flag syntax: %s", `strconv.Atoi: parsing "3": invalid syntax`)
	if got := plainFlagError(other); got != other {
		t.Errorf("plainFlagError(%v) = %v, want it unchanged", other, got)
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// echoFlag refuses every value with the value itself as the message.
type echoFlag struct{}

func (echoFlag) String() string     { return "" }
func (echoFlag) Type() string       { return "string" }
func (echoFlag) Set(s string) error { return errors.New(s) }

package main

import (
	"strings"
	"testing"
)

func TestBench(t *testing.T) {
	r := attnlab(t, "bench", "W2", "W5", "--steps", "1", "--lengths", "64,128", "--repeats", "1")
	wantOK(t, r)
	for _, want := range []string{"W2", "PyTorch", "softmax", "chunked", "linear", "growth"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	wantError(t, attnlab(t, "bench", "W9"), exitUsage, `unknown workload "W9"`)
	wantError(t, attnlab(t, "bench", "--steps", "0"), exitUsage, "--steps")
}

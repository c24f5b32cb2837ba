package main

import (
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"plan_tiny.golden", []string{"plan", "testdata/tiny.yaml"}},
		{"plan_sweep.golden", []string{"plan", "testdata/sweep.yaml", "--width", "120"}},
		{"plan_sweep.80.golden", []string{"plan", "testdata/sweep.yaml", "--width", "80"}},
		{"plan_sweep.60.golden", []string{"plan", "testdata/sweep.yaml", "--width", "60"}},
		{"plan_lm.golden", []string{"plan", "testdata/lm.yaml"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := attnlab(t, tc.args...)
			wantOK(t, r)
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

func TestPlanSet(t *testing.T) {
	r := attnlab(t, "plan", "testdata/tiny.yaml", "--set", "seeds=[1, 2, 3]", "--set", "sweep.grid.model.attention.name=[dot, general, additive]")
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "experiment tiny: 9 runs = 3 points × 3 seeds\n") {
		t.Errorf("plan with --set:\n%s", r.stdout)
	}
	for _, want := range []string{"general", "dot", "additive"} {
		if strings.Count(r.stdout, want) != 3 {
			t.Errorf("%q is not in 3 runs:\n%s", want, r.stdout)
		}
	}
}

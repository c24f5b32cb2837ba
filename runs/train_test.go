package runs

import (
	"context"
	"testing"
	"time"
)

func TestReverseLearnsWithAttention(t *testing.T) {
	cfg := loadConfig(t, "testdata/reverse_small.yaml")
	rec := newMemRecorder()
	start := time.Now()
	res, err := Train(context.Background(), cfg, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v, summaries %v", time.Since(start), res.Summaries)
	if em := res.Summaries["test/exact_match"]; em < 0.99 {
		t.Fatalf("test/exact_match = %v, want ≥ 0.99", em)
	}
}

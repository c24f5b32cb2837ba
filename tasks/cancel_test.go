package tasks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/internal/safein"
)

// countingCtx is a context whose Err turns context.Canceled at its
// after-th call (never when after is 0), and counts the calls: Ctrl-C in
// the middle of the work, at a point that does not depend on the
// machine's speed.
type countingCtx struct {
	context.Context
	after, calls int
}

func (c *countingCtx) Err() error {
	c.calls++
	if c.after > 0 && c.calls >= c.after {
		return context.Canceled
	}
	return nil
}

// TestFingerprintFileCancelled: fingerprinting a large corpus (the data
// check of plan and run) asks its context at least every safein.ReadChunk
// bytes it reads and again as it hashes, and whichever of those looks
// finds it done (Ctrl-C) ends it with an error that names the file and
// wraps context.Canceled, keeping nothing in the memo. It read and hashed
// the whole file (a gigabyte: seconds) whatever the context said.
func TestFingerprintFileCancelled(t *testing.T) {
	dir := t.TempDir()
	line := "the quick brown fox jumps over the lazy dog again\n"
	text := strings.Repeat(line, 5*safein.ReadChunk/len(line)+7) // a bit over 5 chunks
	if err := os.WriteFile(filepath.Join(dir, "big.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := Options{BaseDir: dir}
	all := &countingCtx{Context: context.Background()}
	want, err := FingerprintFileContext(all, "text", "big.txt", opt)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := FingerprintFile("text", "big.txt", opt); err != nil || plain != want {
		t.Fatalf("FingerprintFile = %+v, %v; FingerprintFileContext gave %+v", plain, err, want)
	}
	memoBytes.take(bytesKey(opt.Path("big.txt"), want)) // what those two left
	if min := 2 * (len(text) / safein.ReadChunk); all.calls < min {
		t.Fatalf("fingerprinting %d bytes asked the context %d times, want at least %d (every %d bytes read, and hashed)", len(text), all.calls, min, safein.ReadChunk)
	}
	for after := 1; after <= all.calls; after++ {
		ctx := &countingCtx{Context: context.Background(), after: after}
		fp, err := FingerprintFileContext(ctx, "text", "big.txt", opt)
		if !errors.Is(err, context.Canceled) || fp != (Fingerprint{}) {
			t.Errorf("fingerprint cancelled at the context's call %d of %d: %+v, %v; want context.Canceled", after, all.calls, fp, err)
			continue
		}
		if got, want := err.Error(), "text: big.txt: context canceled"; got != want {
			t.Errorf("fingerprint cancelled at the context's call %d: error %q, want %q", after, got, want)
		}
		if ctx.calls != after {
			t.Errorf("fingerprint cancelled at the context's call %d: asked it %d times, want it to stop there", after, ctx.calls)
		}
		if _, ok := memoBytes.take(bytesKey(opt.Path("big.txt"), want)); ok {
			t.Errorf("fingerprint cancelled at the context's call %d left the file's bytes in the memo", after)
		}
	}
}

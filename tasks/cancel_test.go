package tasks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
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

// TestTextCorpusStops: a text corpus is counted and indexed a piece of
// about TokenPiece bytes at a time (the data check of plan and run
// measures it so, a run's Build indexes it), with a look at Options.Context
// before each piece, and whichever look finds it done (Ctrl-C) ends the
// measuring with an error that names the file and wraps context.Canceled.
// Both passes went through the whole text whatever the context said; the
// pieces give the tokens the whole text gives.
func TestTextCorpusStops(t *testing.T) {
	dir := t.TempDir()
	line := "the quick brown fox jumps over the lazy dog again\n"
	text := strings.Repeat(line, 2*TokenPiece/len(line)+7) // a bit over 2 pieces
	if err := os.WriteFile(filepath.Join(dir, "big.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"word", "char"} {
		p := &TextParams{Path: "big.txt", Tokenizer: tok, Context: 8, MinCount: 1, ValidFraction: 0.1, TestFraction: 0.1}
		whole, err := readCorpus(p, Options{BaseDir: dir}, true)
		if err != nil {
			t.Fatal(err)
		}
		all := &countingCtx{Context: context.Background()}
		c, err := readCorpus(p, Options{BaseDir: dir, Context: all}, true)
		if err != nil {
			t.Fatal(err)
		}
		if c.ends != whole.ends || !slices.Equal(c.ids, whole.ids) || c.vocab.Len() != whole.vocab.Len() {
			t.Fatalf("%s: a corpus read with a context gave %v tokens, %d words; without, %v, %d", tok, c.ends, c.vocab.Len(), whole.ends, whole.vocab.Len())
		}
		if min := 2 * (len(text) / TokenPiece); all.calls < min {
			t.Fatalf("%s: tokenizing %d bytes twice asked the context %d times, want at least %d (every %d bytes, each pass)", tok, len(text), all.calls, min, TokenPiece)
		}
		for after := 1; after <= all.calls; after++ {
			ctx := &countingCtx{Context: context.Background(), after: after}
			c, err := readCorpus(p, Options{BaseDir: dir, Context: ctx}, false)
			if !errors.Is(err, context.Canceled) || c != nil {
				t.Errorf("%s: cancelled at the context's call %d of %d: %v; want context.Canceled", tok, after, all.calls, err)
				continue
			}
			if got, want := err.Error(), "text: big.txt: context canceled"; got != want {
				t.Errorf("%s: cancelled at the context's call %d: error %q, want %q", tok, after, got, want)
			}
			if ctx.calls != after {
				t.Errorf("%s: cancelled at the context's call %d: asked it %d times, want it to stop there", tok, after, ctx.calls)
			}
		}
	}
}

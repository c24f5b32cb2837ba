package tasks

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/attnlab/attnlab/registry"
)

// readText returns the contents of the UTF-8 text file at path (resolved
// with opt.Path), without a leading byte-order mark. Every error is one line
// that starts with the task and names the file as the user wrote it (and the
// line, for invalid UTF-8).
func readText(task, path string, opt Options) (string, error) {
	full := opt.Path(path)
	b, err := os.ReadFile(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			abs, aerr := filepath.Abs(full)
			if aerr != nil {
				abs = full
			}
			return "", fmt.Errorf("%s: %s: no such file (looked for %s)", task, path, abs)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%s: %s: %v", task, path, err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(b) == 0 {
		return "", fmt.Errorf("%s: %s: empty file", task, path)
	}
	if !utf8.Valid(b) {
		bad := 0
		for bad < len(b) {
			r, n := utf8.DecodeRune(b[bad:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			bad += n
		}
		return "", fmt.Errorf("%s: %s:%d: invalid UTF-8", task, path, 1+bytes.Count(b[:bad], []byte("\n")))
	}
	return string(b), nil
}

// splitLines returns the lines of s without their "\n" or "\r\n"; a final
// newline does not start another line.
func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// validateFractions checks two split fractions: each in [0, 1), sum < 1.
func validateFractions(valid, test float64) error {
	if !(valid >= 0 && valid < 1) {
		return registry.Invalid("valid_fraction", "must be in [0, 1), got %g", valid)
	}
	if !(test >= 0 && test < 1) {
		return registry.Invalid("test_fraction", "must be in [0, 1), got %g", test)
	}
	if valid+test >= 1 {
		return registry.Invalid("test_fraction", "valid_fraction + test_fraction must be below 1, got %g", valid+test)
	}
	return nil
}

// validateVocab checks the min_count and max_vocab keys.
func validateVocab(minCount, maxVocab int) error {
	if minCount < 1 {
		return registry.Invalid("min_count", "must be at least 1, got %d", minCount)
	}
	if maxVocab != 0 && maxVocab <= len(specials) {
		return registry.Invalid("max_vocab", "must be 0 (no limit) or above the %d reserved ids, got %d", len(specials), maxVocab)
	}
	return nil
}

func validateTokenizer(key, name string) error {
	if _, err := TokenizerByName(name); err != nil {
		return registry.Invalid(key, "unknown tokenizer %q (known: %s)", name, strings.Join(tokenizerNames(), ", "))
	}
	return nil
}

// fractionCount returns round(f·n).
func fractionCount(f float64, n int) int {
	return int(math.Round(f * float64(n)))
}

package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSyntaxErrorLine checks that a YAML syntax error is reported on the
// line of the mistake, not on the line where the flow mapping or sequence
// around it starts (nor the line before it: the YAML library counts the
// lines of parser errors from 0).
func TestSyntaxErrorLine(t *testing.T) {
	const tabMsg = "a tab indents this line: YAML indents with spaces"
	const head = "name: a\ntask: {name: reverse}\n"
	for _, tc := range []struct {
		name, yaml string
		line       int
		msg        string
	}{
		{"flow map, one line, double comma", head + "model: {name: seq2seq-rnn, hidden: 64,, }\n",
			3, "did not find expected node content"},
		{"flow map on line 1", "model: {name: seq2seq-rnn, hidden: 64,, }\nname: a\n",
			1, "did not find expected node content"},
		{"flow map, two values without a comma", head + "model: {name: seq2seq-rnn,\n   hidden: 64 x: 1\n}\n",
			4, "did not find expected ',' or '}' (in the flow mapping starting at line 3)"},
		{"flow map deep inside a multi-line flow map", head + "model: {\n  name: seq2seq-rnn,\n  hidden: 64,\n  attention: {name: dot, x: [1, 2}\n  }\n",
			6, "did not find expected ',' or ']'"},
		{"multi-line flow map, error three lines down", head + "model: {\n  name: seq2seq-rnn,\n  hidden: 64,\n  embed: 8 dim: 3,\n}\n",
			6, "did not find expected ',' or '}' (in the flow mapping starting at line 3)"},
		{"flow map starting on line 1, error below", "model: {\n  name: seq2seq-rnn,\n  embed: 8 dim: 3,\n}\n",
			3, "did not find expected ',' or '}' (in the flow mapping starting at line 1)"},
		{"unterminated flow map", head + "model: {name: seq2seq-rnn,\n  hidden: 64\ntrain: {steps: 1}\n",
			5, "did not find expected ',' or '}' (in the flow mapping starting at line 3)"},
		{"flow sequence not closed before the end", head + "seeds: [1, 2,\n  3\n",
			3, "a [ on this line is never closed: the file ends inside its flow sequence"},
		{"flow sequence not closed, no final line break", head + "model: {name: x, h: [1,\n  2",
			3, "a [ on this line is never closed: the file ends inside its flow sequence"},
		// The file ends where a value should come: the library names the
		// line after the end.
		{"flow sequences opened at the end", head + "x: [[[[[\n",
			3, "a [ on this line is never closed: the file ends inside its flow sequence"},
		{"flow sequences opened at the end, no final line break", head + "x: [[[[[",
			3, "a [ on this line is never closed: the file ends inside its flow sequence"},
		{"flow sequence ending with a comma", head + "x: [1,\n  [2, 3],\n  [4,\n\n# the end\n",
			5, "a [ on this line is never closed: the file ends inside its flow sequence"},
		{"flow mapping opened at the end", head + "model: {name: x,\n  a:\n",
			3, "a { on this line is never closed: the file ends inside its flow mapping"},
		{"flow mapping opened on line 1", "model: {\n",
			1, "a { on this line is never closed: the file ends inside its flow mapping"},
		{"flow sequence in a flow mapping, ending with a comma", head + "x: {a: [1,\n",
			3, "a [ on this line is never closed: the file ends inside its flow sequence"},
		{"flow sequence, bad item", head + "seeds: [1, 2,\n  3, : 4]\n",
			4, "did not find expected node content"},
		{"flow sequence, two items without a comma", head + "seeds: [1, 2,\n  3,\n  \"4\" 5]\n",
			5, "did not find expected ',' or ']' (in the flow sequence starting at line 3)"},
		{"flow sequence inside a block list", head + "sweep:\n  variants:\n    - {name: a, model.hidden: [1,\n        2 [3]]}\n",
			6, "did not find expected ',' or ']' (in the flow sequence starting at line 5)"},
		{"flow sequence on a line inside a multi-line flow map", head + "x: {\n  a: 1, b: [2,\n  3,\n  3 {y}]}\n",
			6, "did not find expected ',' or ']' (in the flow sequence starting at line 4)"},
		// A comment between the lines joined: only the sequence's line is known.
		{"flow sequence below a comment inside a multi-line flow map", head + "x: { # c\n  a: 1, b: [2,\n  3,\n  3 {y}]}\n",
			4, "did not find expected ',' or ']'"},
		{"block mapping", head + "train:\n  steps: 10\n  - 3\n",
			5, "did not find expected key (in the block mapping starting at line 4)"},
		{"scanner error inside a flow map", head + "model: {name: seq2seq-rnn,\n   hidden: @x\n}\n",
			4, "found character that cannot start any token"},
		// A tab in the indentation: the library says "cannot start any
		// token", or names the line where the scalar above it starts.
		{"tab indenting a key", "name: a\ntask:\n\tname: reverse\n", 3, tabMsg},
		{"tab indenting a key, CR LF", "name: a\r\ntask:\r\n\tname: reverse\r\n", 3, tabMsg},
		{"tab indenting a list item", head + "seeds:\n\t- 1\n", 4, tabMsg},
		{"tab indenting the key after a scalar", head + "model:\n  name: seq2seq-rnn\n  embed: 8\n\thidden: 4\n", 6, tabMsg},
		{"tab after spaces", head + "model:\n  name: seq2seq-rnn\n  \thidden: 4\n", 5, tabMsg},
		{"tab in a block scalar's indentation", head + "description: |\n  one\n\ttwo\n", 5, tabMsg},
		// The library gives no line for bytes that are not text.
		{"NUL", "name: a\x00\ntask: {name: reverse}\n", 1, "the control character U+0000 is not allowed in YAML"},
		{"control character after CR LF lines", "name: a\r\ntask: {name: reverse}\r\n\x7f\n", 3, "the control character U+007F is not allowed in YAML"},
		{"not UTF-8", "\ufeffname: a\ntask: {name: reverse}\ndescription: caf\xe9\n", 3, "the byte 0xe9 is not UTF-8 text: an experiment file is UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := load(testRegistries(t), path, nil, LoadOptions{})
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("load: %v, want a *ConfigError", err)
			}
			if ce.Line != tc.line || ce.Msg != tc.msg {
				t.Errorf("error at line %d: %q, want line %d: %q\n%s", ce.Line, ce.Msg, tc.line, tc.msg, tc.yaml)
			}
		})
	}
}

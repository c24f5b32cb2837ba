package store

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/attnlab/attnlab/internal/floatlit"
)

// Limits of the where language, so that a filter always compiles to SQL that
// SQLite accepts (its expression depth limit is 1000).
const (
	maxWhereLen   = 8192 // bytes of input
	maxWhereDepth = 64   // nested parentheses and nots
	maxWhereTerms = 256  // comparisons, counting each value of an in list

	// maxExact bounds the whole numbers a filter holds exactly (its
	// numbers are float64): they are written in digits below it, and a
	// seed or id of 2^53 or more is refused (compared rounded, it would
	// match a neighbour of the one typed).
	maxExact = 1 << 53
)

// Cond is a parsed --where filter (see ParseWhere). It is immutable and safe
// for concurrent use; the zero value is not valid, use nil for "no filter".
type Cond struct {
	op   condOp
	kids []*Cond // and, or: 2 or more; not: 1

	// comparison
	key  string
	kind keyKind
	cmp  cmpOp
	vals []Value // one, or several for in / not in
	toks []token // the values as written, to type them again for a renamed key
	opT  token   // the operator as written
}

type condOp int

const (
	opCmp condOp = iota
	opAnd
	opOr
	opNot
)

type cmpOp int

const (
	cmpEq cmpOp = iota
	cmpNe
	cmpLt
	cmpLe
	cmpGt
	cmpGe
	cmpIn
	cmpNotIn
)

var cmpText = [...]string{"=", "!=", "<", "<=", ">", ">=", "in", "not in"}

// cmpSQL is the SQL operator for each ordered comparison; only these fixed
// strings ever reach the SQL text.
var cmpSQL = [...]string{cmpEq: "=", cmpLt: "<", cmpLe: "<=", cmpGt: ">", cmpGe: ">="}

type keyKind int

const (
	keyParam keyKind = iota
	keySummary
	keyStatus
	keySeed
	keyID
	keyExperiment
	keyVariant
)

// FilterColumns are the keys of a filter that name a run's own columns
// instead of a param or a metric.
var FilterColumns = []string{"experiment", "id", "seed", "status", "variant"}

// pseudoKeys name columns of runs instead of params.
var pseudoKeys = map[string]keyKind{
	"status":     keyStatus,
	"seed":       keySeed,
	"id":         keyID,
	"experiment": keyExperiment,
	"variant":    keyVariant,
}

// ParseWhere parses a run filter:
//
//	model.attention.name in (dot, additive) and test/exact_match > 0.9
//	not (seed = 1 or train.lr >= 1e-3)
//	task.name != "scan"
//
// Grammar: expr = term {"or" term}; term = factor {"and" factor};
// factor = "not" factor | "(" expr ")" | key op value | key ["not"] "in" "(" value {"," value} ")";
// op is one of = != < <= > >= (also == and <>). Keywords are case-insensitive.
//
// A key is a bare word (letters, digits and _ . / - + : @) or a quoted
// string. A key containing '/' names a metric (test/bleu: a done run's
// summary, the last value logged by a run not done); status,
// seed, id and experiment name the run's own columns, variant the name of
// its sweep variant (a run of no variant has none); any other key names a
// param (a leaf of the resolved config, model.attention.name).
//
// A value is a number (1, -2.5, 3e-4, and nan, inf, -inf), true or false, a
// bare word (text), or a string in double or single quotes with backslash
// escapes (\" \' \\ \n \t). Values compare by type: a number never equals
// text, so model.embed = "64" matches nothing (Cond.CheckParams makes that
// an error where the runs' params are known, as report's filters do). Metrics, seed and id compare
// only with numbers (seed = "1" is an error), seed and id with whole ones
// below 2^53, where numbers (float64) are exact; NaN equals nan, and ordering
// with nan (bleu > nan), which no run could match, is an error. a != v
// means not (a = v), so it also matches runs without a;
// likewise "not in".
//
// Errors are one line with the 1-based column:
// "where: col 14: expected a value, got ')'".
func ParseWhere(s string) (*Cond, error) {
	if len(s) > maxWhereLen {
		return nil, fmt.Errorf("where: filter is %d bytes long; the limit is %d", len(s), maxWhereLen)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, p.errorf(p.peek(), "empty filter")
	}
	c, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorf(t, "expected 'and', 'or' or the end, got %s", t.describe())
	}
	return c, nil
}

// ---- lexer ----

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string // the source text
	val  string // a string's decoded value, an op's canonical form
	col  int    // 1-based, in characters
}

// describe shows a token in an error message: quoted, on one line (control
// and other unprintable characters escaped), and cut if long. A string
// written in single quotes is shown as written, 'abc', not inside a second
// pair of quotes; one in double quotes keeps them inside the single ones,
// '"1"', so that a quoted "1" is told from the number 1.
func (t token) describe() string {
	if t.kind == tEOF {
		return "the end of the filter"
	}
	if t.kind == tString && len(t.text) >= 2 && t.text[0] == '\'' && t.text[len(t.text)-1] == '\'' {
		return "'" + printable(t.text[1:len(t.text)-1], 40) + "'"
	}
	return "'" + printable(t.text, 40) + "'"
}

func printable(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("...")
			break
		}
		n++
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

func (t token) keyword(kw string) bool {
	return t.kind == tWord && strings.EqualFold(t.text, kw)
}

func isKeyword(s string) bool {
	switch strings.ToLower(s) {
	case "and", "or", "not", "in":
		return true
	}
	return false
}

func isWordRune(r rune) bool {
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return true
	}
	switch r {
	case '_', '.', '/', '-', '+', ':', '@':
		return true
	}
	return false
}

func lex(s string) ([]token, error) {
	var toks []token
	col := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		col++
		start, startCol := i, col
		switch {
		case r == utf8.RuneError && size == 1:
			return nil, fmt.Errorf("where: col %d: invalid UTF-8", col)
		case unicode.IsSpace(r):
			i += size
		case r == '(':
			toks = append(toks, token{kind: tLParen, text: "(", col: col})
			i++
		case r == ')':
			toks = append(toks, token{kind: tRParen, text: ")", col: col})
			i++
		case r == ',':
			toks = append(toks, token{kind: tComma, text: ",", col: col})
			i++
		case r == '=' || r == '!' || r == '<' || r == '>':
			op := string(r)
			if i+1 < len(s) {
				two := s[i : i+2]
				switch two {
				case "==", "!=", "<=", ">=", "<>":
					op = two
				}
			}
			if op == "!" {
				return nil, fmt.Errorf("where: col %d: unexpected '!' (did you mean '!='?)", col)
			}
			canon := op
			switch op {
			case "==":
				canon = "="
			case "<>":
				canon = "!="
			}
			toks = append(toks, token{kind: tOp, text: op, val: canon, col: col})
			i += len(op)
			col += len(op) - 1
		case r == '"' || r == '\'':
			quote := r
			var b strings.Builder
			i += size
			closed := false
			for i < len(s) {
				c, n := utf8.DecodeRuneInString(s[i:])
				if c == utf8.RuneError && n == 1 {
					return nil, fmt.Errorf("where: col %d: invalid UTF-8", col+1)
				}
				i += n
				col++
				if c == quote {
					closed = true
					break
				}
				if c == '\\' {
					if i >= len(s) {
						break
					}
					e, n := utf8.DecodeRuneInString(s[i:])
					i += n
					col++
					switch e {
					case '\\', '"', '\'':
						b.WriteRune(e)
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						return nil, fmt.Errorf("where: col %d: unknown escape '\\%s' in string", col-1, printable(string(e), 1))
					}
					continue
				}
				b.WriteRune(c)
			}
			if !closed {
				return nil, fmt.Errorf("where: col %d: unterminated string", startCol)
			}
			toks = append(toks, token{kind: tString, text: s[start:i], val: b.String(), col: startCol})
		case isWordRune(r):
			i += size
			for i < len(s) {
				c, n := utf8.DecodeRuneInString(s[i:])
				if !isWordRune(c) {
					break
				}
				i += n
				col++
			}
			toks = append(toks, token{kind: tWord, text: s[start:i], val: s[start:i], col: startCol})
		default:
			return nil, fmt.Errorf("where: col %d: unexpected character %q", col, r)
		}
	}
	return append(toks, token{kind: tEOF, col: col + 1}), nil
}

// ---- parser ----

type parser struct {
	toks  []token
	i     int
	depth int
	terms int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return errorAt(t, format, args...)
}

// errorAt is an error about token t, naming its column.
func errorAt(t token, format string, args ...any) error {
	return fmt.Errorf("where: col %d: %s", t.col, fmt.Sprintf(format, args...))
}

func (p *parser) expr() (*Cond, error) {
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.peek().keyword("or") {
		p.next()
		right, err := p.term()
		if err != nil {
			return nil, err
		}
		left = join(opOr, left, right)
	}
	return left, nil
}

func (p *parser) term() (*Cond, error) {
	left, err := p.factor()
	if err != nil {
		return nil, err
	}
	for p.peek().keyword("and") {
		p.next()
		right, err := p.factor()
		if err != nil {
			return nil, err
		}
		left = join(opAnd, left, right)
	}
	return left, nil
}

// join builds an n-ary and/or, flattening a left operand of the same op.
func join(op condOp, left, right *Cond) *Cond {
	if left.op == op {
		left.kids = append(left.kids, right)
		return left
	}
	return &Cond{op: op, kids: []*Cond{left, right}}
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > maxWhereDepth {
		return p.errorf(t, "filter nested more than %d deep", maxWhereDepth)
	}
	return nil
}

func (p *parser) factor() (*Cond, error) {
	t := p.peek()
	switch {
	case t.keyword("not"):
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		c, err := p.factor()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &Cond{op: opNot, kids: []*Cond{c}}, nil
	case t.kind == tLParen:
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		c, err := p.expr()
		p.depth--
		if err != nil {
			return nil, err
		}
		if r := p.next(); r.kind != tRParen {
			return nil, p.errorf(r, "expected ')' to close the '(' at col %d, got %s", t.col, r.describe())
		}
		return c, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (*Cond, error) {
	kt := p.next()
	switch {
	case kt.kind == tString:
	case kt.kind == tWord && !isKeyword(kt.text):
		if _, isNum, _ := literal(kt); isNum {
			return nil, p.errorf(kt, "expected a key, got the number %s", kt.describe())
		}
	default:
		return nil, p.errorf(kt, "expected a key, got %s", kt.describe())
	}
	c := &Cond{op: opCmp, key: kt.val}
	if c.key == "" {
		return nil, p.errorf(kt, "empty key")
	}
	c.kind = classifyKey(c.key)

	ot := p.next()
	c.opT = ot
	switch {
	case ot.kind == tOp:
		c.cmp = map[string]cmpOp{"=": cmpEq, "!=": cmpNe, "<": cmpLt, "<=": cmpLe, ">": cmpGt, ">=": cmpGe}[ot.val]
		v, err := p.value(c, ot)
		if err != nil {
			return nil, err
		}
		c.vals = []Value{v}
	case ot.keyword("in") || ot.keyword("not"):
		c.cmp = cmpIn
		if ot.keyword("not") {
			if it := p.next(); !it.keyword("in") {
				return nil, p.errorf(it, "expected 'in' after 'not', got %s", it.describe())
			}
			c.cmp = cmpNotIn
		}
		if lp := p.next(); lp.kind != tLParen {
			return nil, p.errorf(lp, "expected '(' to start the list, got %s", lp.describe())
		}
		for {
			v, err := p.value(c, ot)
			if err != nil {
				return nil, err
			}
			c.vals = append(c.vals, v)
			sep := p.next()
			if sep.kind == tRParen {
				break
			}
			if sep.kind != tComma {
				return nil, p.errorf(sep, "expected ',' or ')' in the list, got %s", sep.describe())
			}
		}
	default:
		return nil, p.errorf(ot, "expected an operator (= != < <= > >= in) after %s, got %s", kt.describe(), ot.describe())
	}
	return c, nil
}

// classifyKey says what a key of a filter names: a run column, a summary
// metric (a key with a '/'), or a param.
func classifyKey(key string) keyKind {
	if k, ok := pseudoKeys[key]; ok {
		return k
	}
	if strings.Contains(key, "/") {
		return keySummary
	}
	return keyParam
}

var numberRE = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// literal classifies a value token: (value, isNumber, error).
func literal(t token) (Value, bool, error) {
	if t.kind == tString {
		return TextValue(t.val), false, nil
	}
	switch strings.ToLower(t.text) {
	case "true":
		return BoolValue(true), false, nil
	case "false":
		return BoolValue(false), false, nil
	case "nan", "+nan", "-nan":
		return NumberValue(math.NaN()), true, nil
	case "inf", "+inf", "infinity", "+infinity":
		return NumberValue(math.Inf(1)), true, nil
	case "-inf", "-infinity":
		return NumberValue(math.Inf(-1)), true, nil
	}
	if numberRE.MatchString(t.text) {
		f, err := floatlit.Parse(t.text)
		if errors.Is(err, floatlit.ErrUnderflow) {
			// x > 1e-400 would mean x > 0.
			return Value{}, true, fmt.Errorf("number %s is out of range (too close to 0: it would read as 0)", t.text)
		}
		if err != nil {
			return Value{}, true, fmt.Errorf("number %s is out of range", t.text)
		}
		return NumberValue(f), true, nil
	}
	return TextValue(t.text), false, nil
}

// value parses one value of comparison c and checks that its type suits the
// key and the operator.
func (p *parser) value(c *Cond, op token) (Value, error) {
	t := p.next()
	if t.kind != tString && (t.kind != tWord || isKeyword(t.text)) {
		return Value{}, p.errorf(t, "expected a value, got %s", t.describe())
	}
	p.terms++
	if p.terms > maxWhereTerms {
		return Value{}, p.errorf(t, "filter has more than %d comparisons", maxWhereTerms)
	}
	c.toks = append(c.toks, t)
	return c.typed(t)
}

// typed returns the value token t of comparison c as the key's kind takes
// it, or an error when its type does not suit the key or the operator.
func (c *Cond) typed(t token) (Value, error) {
	v, _, err := literal(t)
	if err != nil && c.kind != keyExperiment && c.kind != keyVariant && c.kind != keyStatus { // names are text, whatever they look like
		return Value{}, errorAt(t, "%v", err)
	}
	want := func(kinds string) error {
		return errorAt(t, "%s compares with %s, got %s %s", c.key, kinds, v.Kind, t.describe())
	}
	equality := c.cmp == cmpEq || c.cmp == cmpNe || c.cmp == cmpIn || c.cmp == cmpNotIn
	switch c.kind {
	case keySummary:
		if v.Kind != KindNumber {
			return Value{}, want("numbers (it is a metric)")
		}
	case keySeed, keyID:
		if v.Kind != KindNumber {
			return Value{}, want("numbers")
		}
		if v.Num != math.Trunc(v.Num) || math.IsInf(v.Num, 0) {
			return Value{}, errorAt(t, "%s is a whole number, got %s", c.key, t.describe())
		}
		if math.Abs(v.Num) >= maxExact {
			// seed = 12345678901234567 would be read as ...568.
			return Value{}, errorAt(t, "%s is a whole number up to %d in a filter (beyond, numbers are not exact), got %s", c.key, int64(maxExact-1), t.describe())
		}
	case keyExperiment, keyVariant:
		v = TextValue(t.val) // names may look like numbers or bools
	case keyStatus:
		v = TextValue(t.val)
		if !Status(v.Text).Valid() {
			return Value{}, errorAt(t, "unknown status %s (known: %s)", t.describe(), statusList())
		}
		if !equality {
			return Value{}, errorAt(c.opT, "status compares only with = != in, got %s", c.opT.describe())
		}
	}
	if v.Kind == KindBool && !equality {
		return Value{}, errorAt(c.opT, "true and false compare only with = != in, got %s", c.opT.describe())
	}
	if v.Kind == KindNumber && math.IsNaN(v.Num) && !equality {
		return Value{}, errorAt(t, "nan is neither below nor above any value: %s %s nan would match no run (= nan matches a NaN value)", c.key, c.opT.text)
	}
	return v, nil
}

// CheckParams checks each comparison of a param against the kinds of value
// the param holds (kinds(key); nulls aside, none: not checked): a value of
// another kind never equals nor orders with them, so model.embed > abc or
// model.embed = "64" (where the runs hold the number 64) would match
// nothing, model.embed != "64" every run, silently; it is an error naming
// the value and what the param holds.
func (c *Cond) CheckParams(kinds func(key string) []Kind) error {
	if c == nil {
		return nil
	}
	if c.op != opCmp {
		for _, k := range c.kids {
			if err := k.CheckParams(kinds); err != nil {
				return err
			}
		}
		return nil
	}
	if c.kind != keyParam {
		return nil
	}
	held := slices.DeleteFunc(slices.Clone(kinds(c.key)), func(k Kind) bool { return k == KindNull })
	if len(held) == 0 {
		return nil
	}
	plural := map[Kind]string{KindNumber: "numbers", KindText: "text", KindBool: "true or false"}
	for i, v := range c.vals {
		if !slices.Contains(held, v.Kind) {
			what := make([]string, len(held))
			for j, k := range held {
				what[j] = plural[k]
			}
			effect := "it would match nothing"
			switch c.cmp {
			case cmpNe, cmpNotIn:
				effect = "it would match every run"
			case cmpIn:
				effect = "that value would never match"
			}
			return errorAt(c.toks[i], "%s holds %s in the selected runs, not %s such as %s: %s", c.key, strings.Join(what, " and "), plural[v.Kind], c.toks[i].describe(), effect)
		}
	}
	return nil
}

// valid reports whether c was built by ParseWhere (and not, say, &Cond{}).
func (c *Cond) valid() bool {
	switch c.op {
	case opAnd, opOr, opNot:
		if len(c.kids) == 0 {
			return false
		}
		for _, k := range c.kids {
			if k == nil || !k.valid() {
				return false
			}
		}
		return true
	}
	return c.op == opCmp && len(c.vals) > 0
}

// Keys returns the keys the filter names, each once, in the order they
// first appear.
func (c *Cond) Keys() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*Cond)
	walk = func(c *Cond) {
		if c.op == opCmp {
			if !seen[c.key] {
				seen[c.key] = true
				out = append(out, c.key)
			}
			return
		}
		for _, k := range c.kids {
			walk(k)
		}
	}
	if c != nil {
		walk(c)
	}
	return out
}

// MapKeys returns a copy of the filter with every key k replaced by
// f(k), and the first error f returns. A replaced key is classified again
// (a run column, a summary metric when it contains '/', else a param), so
// f can resolve a short name such as attention.name or bleu to the full
// key. c is not modified.
func (c *Cond) MapKeys(f func(key string) (string, error)) (*Cond, error) {
	if c == nil {
		return nil, nil
	}
	out := *c
	if c.op == opCmp {
		k, err := f(c.key)
		if err != nil {
			return nil, err
		}
		out.key, out.kind = k, classifyKey(k)
		if out.kind != c.kind {
			// The value's type must suit the key it names now (bleu is
			// test/bleu, a metric: a number).
			out.vals = make([]Value, len(c.toks))
			for i, t := range c.toks {
				if out.vals[i], err = out.typed(t); err != nil {
					return nil, err
				}
			}
		}
		return &out, nil
	}
	out.kids = make([]*Cond, len(c.kids))
	for i, k := range c.kids {
		m, err := k.MapKeys(f)
		if err != nil {
			return nil, err
		}
		out.kids[i] = m
	}
	return &out, nil
}

// ---- printing ----

// String returns the filter in canonical form: ParseWhere(c.String())
// gives an equal filter. A whole number below 2^53 is written in digits
// (20240101, not 2.0240101e+07), others in the shortest form.
func (c *Cond) String() string {
	if c == nil {
		return ""
	}
	var b strings.Builder
	c.format(&b, false)
	return b.String()
}

func (c *Cond) format(b *strings.Builder, nested bool) {
	switch c.op {
	case opAnd, opOr:
		sep := " and "
		if c.op == opOr {
			sep = " or "
		}
		if nested {
			b.WriteByte('(')
		}
		for i, k := range c.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.format(b, true)
		}
		if nested {
			b.WriteByte(')')
		}
	case opNot:
		b.WriteString("not ")
		c.kids[0].format(b, true)
	default:
		b.WriteString(formatWord(c.key, true))
		b.WriteByte(' ')
		b.WriteString(cmpText[c.cmp])
		b.WriteByte(' ')
		if c.cmp == cmpIn || c.cmp == cmpNotIn {
			b.WriteByte('(')
		}
		for i, v := range c.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(formatValue(v))
		}
		if c.cmp == cmpIn || c.cmp == cmpNotIn {
			b.WriteByte(')')
		}
	}
}

func formatValue(v Value) string {
	switch v.Kind {
	case KindNumber:
		switch {
		case math.IsNaN(v.Num):
			return "nan"
		case math.IsInf(v.Num, 1):
			return "inf"
		case math.IsInf(v.Num, -1):
			return "-inf"
		}
		return v.String() // a whole number in digits
	case KindBool:
		return strconv.FormatBool(v.Bool)
	}
	return formatWord(v.Text, false)
}

// formatWord writes s bare if it would lex back as the same key or text
// value, quoted otherwise.
func formatWord(s string, key bool) string {
	bare := s != "" && !isKeyword(s)
	for _, r := range s {
		if !isWordRune(r) {
			bare = false
			break
		}
	}
	if bare {
		if v, isNum, err := literal(token{kind: tWord, text: s}); err != nil || isNum || (!key && v.Kind != KindText) {
			bare = false
		}
	}
	if bare {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ---- SQL ----

// sql compiles the filter to a boolean SQL expression over the runs query's
// aliases r (runs) and e (experiments), in the dialect's SQL. Keys and
// values are returned as bound arguments; the text holds only fixed SQL and
// '?' placeholders.
func (c *Cond) sql(d dialect) (string, []any) {
	var b strings.Builder
	var args []any
	c.compile(d, &b, &args)
	return b.String(), args
}

func (c *Cond) compile(d dialect, b *strings.Builder, args *[]any) {
	switch c.op {
	case opAnd, opOr:
		sep := " AND "
		if c.op == opOr {
			sep = " OR "
		}
		b.WriteByte('(')
		for i, k := range c.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.compile(d, b, args)
		}
		b.WriteByte(')')
	case opNot:
		b.WriteString("(NOT ")
		c.kids[0].compile(d, b, args)
		b.WriteByte(')')
	default:
		switch c.cmp {
		case cmpNe, cmpNotIn:
			b.WriteString("(NOT ")
			c.compileAny(d, b, args)
			b.WriteByte(')')
		default:
			c.compileAny(d, b, args)
		}
	}
}

// compileAny writes the disjunction of c.key = v over c.vals (for =, !=, in
// and not in; the caller negates), or the single ordered comparison.
func (c *Cond) compileAny(d dialect, b *strings.Builder, args *[]any) {
	op := cmpEq
	switch c.cmp {
	case cmpLt, cmpLe, cmpGt, cmpGe:
		op = c.cmp
	}
	b.WriteByte('(')
	for i, v := range c.vals {
		if i > 0 {
			b.WriteString(" OR ")
		}
		c.compileOne(d, b, args, op, v)
	}
	b.WriteByte(')')
}

// sqlFalse is a condition that never holds, in both engines' SQL.
const sqlFalse = "(1 = 0)"

// compileOne writes key op v. NaN equals only a stored NaN (a NULL value)
// and fails every ordering, as in IEEE 754. Numbers and bools compare with
// params.value, text with params.text_value; numbers are bound through the
// dialect's number placeholder.
func (c *Cond) compileOne(d dialect, b *strings.Builder, args *[]any, op cmpOp, v Value) {
	nan := v.Kind == KindNumber && math.IsNaN(v.Num)
	if nan && op != cmpEq || v.Kind == KindText && !d.storable(v.Text) {
		// Nothing stored can equal NaN or text the engine cannot hold.
		b.WriteString(sqlFalse)
		return
	}
	placeholder := "?"
	arg := v.sqlArg()
	switch v.Kind {
	case KindNumber:
		placeholder = d.number()
		if f, ok := arg.(int64); ok {
			arg = float64(f)
		}
	case KindBool:
		placeholder = d.number()
		arg = float64(arg.(int64))
	}
	cmp := " " + cmpSQL[op] + " " + placeholder
	if nan {
		cmp, arg = " IS NULL", nil
	}
	column := "p.value"
	if v.Kind == KindText {
		column = "p.text_value"
	}
	switch c.kind {
	case keyParam:
		b.WriteString("EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ? AND p.type = ? AND ")
		b.WriteString(column)
		b.WriteString(cmp)
		b.WriteByte(')')
		*args = append(*args, c.key, string(v.Kind))
	case keySummary:
		// The value compare shows (report): a done run's summary; for a
		// run not done the last value it logged of the metric (its
		// summaries are written when it ends, or are an earlier
		// attempt's), a failed run's summary where it logged none.
		b.WriteString("((r.status = '" + string(StatusDone) + "' OR r.status = '" + string(StatusFailed) + "' AND NOT EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id AND m.key = ?))")
		b.WriteString(" AND EXISTS (SELECT 1 FROM summaries s WHERE s.run_id = r.id AND s.key = ? AND s.value" + cmp + ")")
		*args = append(*args, c.key, c.key)
		if !nan {
			*args = append(*args, arg)
		}
		b.WriteString(" OR r.status <> '" + string(StatusDone) + "' AND EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id AND m.key = ?")
		b.WriteString(" AND m.step = (SELECT MAX(l.step) FROM metrics l WHERE l.run_id = r.id AND l.key = ?) AND m.value" + cmp + "))")
		*args = append(*args, c.key, c.key)
	case keyStatus, keySeed, keyID, keyExperiment:
		if nan {
			b.WriteString(sqlFalse) // these columns are never NaN
			return
		}
		b.WriteString(map[keyKind]string{keyStatus: "r.status", keySeed: "r.seed", keyID: "r.id", keyExperiment: "e.name"}[c.kind])
		b.WriteString(cmp)
	case keyVariant:
		if nan {
			b.WriteString(sqlFalse)
			return
		}
		// A run of no variant has none: variant != x matches it, as a
		// param's != matches runs without the param.
		col := d.pointText("variant")
		b.WriteString("(" + col + " IS NOT NULL AND " + col + cmp + ")")
	}
	if !nan {
		*args = append(*args, arg)
	}
}

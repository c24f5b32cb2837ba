"""Edge cases for attnlab's sacreBLEU port, scored by sacreBLEU itself.

Run from a sacreBLEU 2.5.1 source tree (it needs the `regex` module for intl):
    PYTHONPATH=<sacrebleu-2.5.1>/ python3 make_sacrebleu_edge.py > sacrebleu_edge.json
(a checkout of the v2.5.1 tag works once sacrebleu/version.py holds __version__ = "2.5.1").

The shared fixture (sacrebleu.json, from ../../../shared/fixtures/sacrebleu) covers the cases the
issue names; this one adds what a port can get wrong: each tokenizer's output on awkward text,
Python's str.lower() and str.split() on Unicode, every smoothing method, multiple and empty
references, chrF's variants, sentence chrF, and a seeded random corpus. It also scores the
inputs of the NLTK corpus-BLEU fixture (corpus_bleu.json) with tokenize none, so that test keeps
meaning on the 0-100 scale.
"""
import json
import random

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF

TOKENIZE_LINES = [
    "The cat sat on the mat.",
    "It costs $1,000.50 (approx.) -- or 3.5% more, doesn't it?",
    "a.b,c 1.5 1,5 a. b, .5 ,5 5. 5, 3-4 a-b 3- -4 U.S.A. e.g.,",
    "&quot;quoted&quot; &amp; &lt;tag&gt; &amp;quot; & amp;",
    "<skipped> words-\nbroken across\nlines",
    "tabs\tand  double  spaces\x1cfile-sep\x1dgroup\u00a0nbsp\u2003em\u3000ideo ",
    "{braces} [brackets] `tick` ^caret_ under|pipe ~tilde @at :colon; semi=eq <lt> /slash\\back",
    "Der Mann fährt nach Köln – schnell!",
    "Café “Zoë” öffnet um 9 Uhr… «Bonjour» ¿Qué? ¡Sí!",
    "東京は大きい都市です。「こんにちは」、世界！",
    "Year 2019. Price €5 + 10% = £6; a+b=c ½ ² © ™ 😀👍",
    "Arabic: مرحبا، كيف حالك؟ Hebrew: שלום.",
    "combining: e\u0301 n\u0303 \u0915\u093f Zalgo: Z\u0351\u034b",
    "trailing punct at end.",
    "",
    "   ",
    "x",
]

LOWER_LINES = [
    "ΟΔΟΣ ΣΑΣ Σ ΑΣ. ΑΣ' ΑΣ.Β",
    "İSTANBUL İzmir",
    "STRASSE Straße ǅemal ǄEMAL",
    "ÀÉÎÕÜ ĀĒĪŌŪ ЁЖИК ＡＢＣ",
]

CASES = {
    "html_and_skipped": (
        ["&quot;Hello&quot; &amp; goodbye <skipped>", "a well-\nknown fact", "x &lt; y &gt; z"],
        [['"Hello" & goodbye', "a wellknown fact", "x < y > z"]]),
    "digits_and_separators": (
        ["It rose 3.5% in 2019. Then 1,000 people came.", "Call 555-1234 now, or at 5-6pm."],
        [["It rose 3.5 % in 2019 . Then 1,000 people came .", "Call 555-1234 now , or at 5-6 pm ."]]),
    "unicode_punctuation": (
        ["«Bonjour», dit-il… “Yes”—no.", "東京は大きい都市です。", "¿Qué pasa? ¡Nada!"],
        [["« Bonjour », dit-il … “ Yes ” — no .", "東京は大都市です。", "¿ Qué pasa ? ¡ Nada !"]]),
    "whitespace": (
        ["  leading and trailing  ", "tab\tseparated\twords", "nbsp\u00a0inside\x1cword"],
        [["leading and trailing", "tab separated words", "nbsp inside word"]]),
    "greek_and_turkish_case": (
        ["ΟΔΟΣ ΣΑΣ", "İSTANBUL güzel", "STRASSE"],
        [["οδος σας", "istanbul güzel", "strasse"]]),
    "variable_lengths": (
        ["a", "a b", "a b c", "a b c d e f g h", "z"],
        [["a", "a b", "a b x", "a b c d e f g", "q"]]),
    "multi_ref_three": (
        ["the cat is on the mat", "there is a cat here", "hello world"],
        [["the cat sits on the mat", "a cat is here", "hello there world"],
         ["on the mat is the cat", "there is a cat here", "hi world"],
         ["a cat on a mat", "here is one cat", "hello world !"]]),
    "empty_reference": (
        ["something", "the same words"],
        [["", "the same words"]]),
    "all_empty_hypotheses": (
        ["", ""],
        [["one reference", "two reference words"]]),
    "no_match": (
        ["alpha beta gamma delta", "epsilon"],
        [["one two three four", "five"]]),
    "chrf_punctuation_words": (
        ["(hi) there, you! 'quoted' x.", "a-b c: d;e \"f\""],
        [["(hi)there, you 'quoted' x .", "a - b c : d ; e \"f\""]]),
    "repeated_ngrams": (
        ["the the the the the the the the", "a a a b b b a a a"],
        [["the cat the dog the end", "a b a b a b"]]),
}


def bleu_entry(m, b):
    return {"score": b.score, "counts": b.counts, "totals": b.totals, "precisions": b.precisions,
            "bp": b.bp, "sys_len": b.sys_len, "ref_len": b.ref_len, "signature": str(m.get_signature())}


def score_case(hyps, refs):
    s = {}
    for tok in ["13a", "intl", "char", "none"]:
        for lc in [False, True]:
            m = BLEU(tokenize=tok, lowercase=lc)
            s[f"bleu_{tok}" + ("_lc" if lc else "")] = bleu_entry(m, m.corpus_score(hyps, refs))
    for sm in ["none", "floor", "add-k"]:
        m = BLEU(smooth_method=sm)
        s[f"bleu_13a_smooth_{sm}"] = bleu_entry(m, m.corpus_score(hyps, refs))
    m = BLEU(effective_order=True)
    s["sentence_bleu_13a"] = [m.sentence_score(h, [r[i] for r in refs]).score for i, h in enumerate(hyps)]
    sig = None
    for name, kw in [("chrf2", {}), ("chrf2pp", {"word_order": 2}), ("chrf2_lc", {"lowercase": True}),
                     ("chrf2_whitespace", {"whitespace": True}), ("chrf2_eps", {"eps_smoothing": True}),
                     ("chrf2pp_eps", {"word_order": 2, "eps_smoothing": True}), ("chrf1_nc4_nw1", {"beta": 1, "char_order": 4, "word_order": 1})]:
        m = CHRF(**kw)
        f = m.corpus_score(hyps, refs)
        s[name] = {"score": f.score, "name": f.name, "signature": str(m.get_signature())}
    m = CHRF(word_order=2)
    s["sentence_chrf2pp"] = [m.sentence_score(h, [r[i] for r in refs]).score for i, h in enumerate(hyps)]
    return s


def random_corpus(seed, n):
    rng = random.Random(seed)
    words = "the a cat dog sat ran on under mat table , . ! ? 's 1,000 3.5 New-York don't (big) «x» café".split()
    hyps, refs = [], []
    for _ in range(n):
        ref = [rng.choice(words) for _ in range(rng.randint(0, 14))]
        hyp = [w for w in ref if rng.random() > 0.2]
        for _ in range(rng.randint(0, 3)):
            hyp.insert(rng.randint(0, len(hyp)), rng.choice(words))
        if rng.random() < 0.3:
            hyp = [w.upper() if rng.random() < 0.3 else w for w in hyp]
        hyps.append(" ".join(hyp))
        refs.append(" ".join(ref))
    return hyps, [refs]


out = {"sacrebleu_version": sacrebleu.__version__, "tokenize": [], "lower": [], "cases": []}
for line in TOKENIZE_LINES:
    e = {"line": line}
    for tok in ["13a", "intl", "char", "none"]:
        e[tok] = BLEU(tokenize=tok)._preprocess_segment(line).split()
    out["tokenize"].append(e)
for line in LOWER_LINES + TOKENIZE_LINES:
    out["lower"].append({"line": line, "lower": line.lower()})
for name, (hyps, refs) in CASES.items():
    out["cases"].append({"name": name, "hypotheses": hyps, "references": refs, "scores": score_case(hyps, refs)})
for seed in [1, 2]:
    hyps, refs = random_corpus(seed, 60)
    out["cases"].append({"name": f"random_{seed}", "hypotheses": hyps, "references": refs, "scores": score_case(hyps, refs)})

# The NLTK fixture's inputs: reference lists per hypothesis become reference sets.
with open("corpus_bleu.json") as f:
    nltk = json.load(f)
out["nltk_inputs"] = []
for c in nltk["cases"]:
    n = max(len(r) for r in c["references"])
    assert all(len(r) == n for r in c["references"])
    refs = [[r[k] for r in c["references"]] for k in range(n)]
    e = {"name": c["name"]}
    for sm in ["none", "exp"]:
        m = BLEU(tokenize="none", smooth_method=sm)
        e[f"smooth_{sm}"] = m.corpus_score(c["hypotheses"], refs).score
    out["nltk_inputs"].append(e)
print(json.dumps(out, indent=1, ensure_ascii=False))

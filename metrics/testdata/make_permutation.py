"""Writes permutation.json: exact two-sided p-values of scipy 1.10's
stats.permutation_test (n_resamples=inf, so every permutation is counted)
for the degenerate cases of TestSignFlipP and TestSeparatedP: paired
differences that all have one sign (permutation_type="samples", statistic
mean(a - b)), and two samples that are each constant at different values
(permutation_type="independent", statistic mean(a) - mean(b)). scipy
needs 2 values per sample. Run: python3 make_permutation.py > permutation.json
"""
import json
import sys

import numpy as np
import scipy.stats as st


def paired(a, b):
    return st.permutation_test((a, b), lambda x, y, axis: np.mean(x - y, axis=axis), permutation_type="samples",
                               n_resamples=np.inf, alternative="two-sided", vectorized=True).pvalue


def indep(a, b):
    return st.permutation_test((a, b), lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
                               permutation_type="independent", n_resamples=np.inf, alternative="two-sided",
                               vectorized=True).pvalue


out = {"scipy": __import__("scipy").__version__, "sign_flip": [], "separated": []}
for n in [2, 3, 5, 8, 12]:
    rng = np.random.default_rng(n)
    b = rng.uniform(0, 1, n)
    a = b + 0.25 + rng.uniform(0, 0.1, n)  # differences of one sign that vary
    for x, y in [(a, b), (b, a)]:
        out["sign_flip"].append({"a": list(x), "b": list(y), "p": paired(x, y)})
for n, m in [(2, 2), (3, 3), (2, 5), (5, 2), (4, 7), (5, 5), (6, 9)]:
    for x, y in [(0.75, 0.5), (0.5, 0.75)]:
        out["separated"].append({"a": [x] * n, "b": [y] * m, "p": indep(np.array([x] * n), np.array([y] * m))})
json.dump(out, sys.stdout, indent=1)
print()

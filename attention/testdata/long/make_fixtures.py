#!/usr/bin/python3
"""PyTorch reference fixtures (float64 autograd) for attnlab's position schemes
and long-input attention variants: rotary positions, ALiBi, T5's relative
bias, sliding-window attention and Performer (FAVOR+) with a fixed feature
draw. Each formulation is written here from its paper (README.md beside this
file says which); nothing is taken from attnlab's Go code.

Layout as ../../../../shared/fixtures/torch (README there): every file is one
JSON object with name, dtype, description, formula, config, inputs, params,
outputs, loss {definition, R, value} and grads; tensors are
{"dtype", "shape", "data" (row-major)}; masks are int64 1/0; the loss is
L = sum(context * R.context) and grads are dL/d(name).

Heads are laid out side by side, as attnlab's per-head attentions read them:
q, k, v are [B, T, H*d], head h in columns h*d ... h*d+d-1; the context is
[B, Tq, H*dv] and the weights [B, H, Tq, Tk].

Before writing, every gradient is checked against finite differences with
torch.autograd.gradcheck.

Usage: /usr/bin/python3 make_fixtures.py   (Debian's python3-torch; seconds)
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261202
G = torch.Generator().manual_seed(SEED)


def rnd(*shape, scale=1.0):
    return (torch.randn(*shape, generator=G) * scale).requires_grad_(True)


def T(x):
    x = x.detach()
    if x.dtype in (torch.bool, torch.int64, torch.int32):
        return {"dtype": "int64", "shape": list(x.shape), "data": [int(v) for v in x.reshape(-1).tolist()]}
    return {"dtype": "float64", "shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def heads_of(x, h):
    """[B, T, H*d] -> [B, H, T, d]"""
    b, t, hd = x.shape
    return x.reshape(b, t, h, hd // h).permute(0, 2, 1, 3)


def merge(x):
    """[B, H, T, d] -> [B, T, H*d]"""
    b, h, t, d = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, t, h * d)


def softmax_attention(q, k, v, h, allowed, bias=None):
    """Scaled dot-product attention of h heads; allowed [B,Tq,Tk] 1/0;
    bias [H,Tq,Tk] (or None) added to the scaled scores. A row with nothing
    allowed gets zero weights."""
    Q, K, V = heads_of(q, h), heads_of(k, h), heads_of(v, h)
    d = Q.shape[-1]
    s = Q @ K.transpose(-1, -2) / math.sqrt(d)
    if bias is not None:
        s = s + bias.unsqueeze(0)
    keep = allowed.unsqueeze(1).bool()
    s = s.masked_fill(~keep, float("-inf"))
    mx = s.amax(-1, keepdim=True).detach()
    mx = torch.where(torch.isinf(mx), torch.zeros_like(mx), mx)
    e = torch.exp(s - mx) * keep
    den = e.sum(-1, keepdim=True)
    w = e / torch.where(den == 0, torch.ones_like(den), den)
    return merge(w @ V), w


def key_mask(lengths, t):
    return torch.tensor([[1 if j < n else 0 for j in range(t)] for n in lengths], dtype=torch.int64)


def allowed_of(km, tq, causal, band=None):
    """[B,Tq,Tk] from a key mask, the causal rule j <= i and a band
    (left, right): i-left <= j <= i+right."""
    b, tk = km.shape
    a = km.unsqueeze(1).expand(b, tq, tk).clone()
    for i in range(tq):
        for j in range(tk):
            ok = True
            if causal and j > i:
                ok = False
            if band is not None and (j < i - band[0] or j > i + band[1]):
                ok = False
            if not ok:
                a[:, i, j] = 0
    return a


# --- rotary positions: Su et al. 2021, RoFormer, eq. (34) ---------------------

def rope(x, h, base=10000.0):
    """Rotate each head's pairs (x_{2m}, x_{2m+1}) of position p by p*theta_m,
    theta_m = base^(-2m/d): the block-diagonal R^d_{Theta,p} of eq. (15)/(34)."""
    b, t, hd = x.shape
    d = hd // h
    X = heads_of(x, h)                                  # [B,H,T,d]
    pos = torch.arange(t, dtype=torch.float64)
    theta = base ** (-2.0 * torch.arange(d // 2, dtype=torch.float64) / d)
    ang = pos[:, None] * theta[None, :]                 # [T, d/2]
    c, s = torch.cos(ang), torch.sin(ang)
    x0, x1 = X[..., 0::2], X[..., 1::2]
    y0 = x0 * c - x1 * s
    y1 = x0 * s + x1 * c
    Y = torch.stack([y0, y1], dim=-1).reshape(X.shape)
    return merge(Y)


# --- ALiBi: Press, Smith & Lewis 2022, section 3 and their get_slopes -----------

def get_slopes(n):
    def power_of_2(n):
        start = 2 ** (-2 ** -(math.log2(n) - 3))
        return [start * start ** i for i in range(n)]
    if math.log2(n).is_integer():
        return power_of_2(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_2(closest) + get_slopes(2 * closest)[0::2][: n - closest]


def alibi_bias(h, tq, tk, symmetric):
    m = torch.tensor(get_slopes(h))
    i = torch.arange(tq)[:, None]
    j = torch.arange(tk)[None, :]
    dist = (i - j).abs() if symmetric else (i - j)       # causal: -m (i - j), j <= i
    return -m[:, None, None] * dist[None].to(torch.float64)


# --- T5 relative bias: Raffel et al. 2020, section 2.1; buckets as in T5's -----
# --- mesh_tensorflow / Hugging Face _relative_position_bucket ------------------

def t5_bucket(rel, bidirectional, num_buckets=32, max_distance=128):
    ret = torch.zeros_like(rel)
    n = rel
    if bidirectional:
        num_buckets //= 2
        ret = ret + (n > 0).to(torch.int64) * num_buckets
        n = n.abs()
    else:
        n = -torch.clamp(n, max=0)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    large = max_exact + (torch.log(n.to(torch.float64).clamp(min=1) / max_exact)
                         / math.log(max_distance / max_exact) * (num_buckets - max_exact)).to(torch.int64)
    large = torch.clamp(large, max=num_buckets - 1)
    return ret + torch.where(is_small, n, large)


def t5_bias_of(table, tq, tk, bidirectional):
    rel = torch.arange(tk)[None, :] - torch.arange(tq)[:, None]   # memory - query
    bucket = t5_bucket(rel, bidirectional)                        # [Tq,Tk]
    return table[bucket].permute(2, 0, 1)                         # table [32,H] -> [H,Tq,Tk]


# --- Performer FAVOR+: Choromanski et al. 2021, Lemma 1 (positive random -------
# --- features) and eq. (5); the data normaliser d^(-1/4) of their code ---------

def favor_features(x, h, w):
    """phi(x) = exp(w_r . x~ - |x~|^2/2)/sqrt(m), x~ = x/d^(1/4); w [m,d]."""
    X = heads_of(x, h)
    m, d = w.shape
    xs = X / d ** 0.25
    u = xs @ w.t()
    return torch.exp(u - (xs * xs).sum(-1, keepdim=True) / 2) / math.sqrt(m)   # [B,H,T,m]


def performer_attention(q, k, v, h, w, allowed):
    fq, fk = favor_features(q, h, w), favor_features(k, h, w)
    V = heads_of(v, h)
    sim = (fq @ fk.transpose(-1, -2)) * allowed.unsqueeze(1)
    den = sim.sum(-1, keepdim=True)
    a = sim / torch.where(den == 0, torch.ones_like(den), den)
    return merge(a @ V), a


def orthogonal_features(m, d):
    """Orthogonal random features as the paper's create_projection_matrix
    (scaling 0): blocks of d orthonormal rows (QR of a Gaussian matrix), each
    row scaled by the norm of an independent Gaussian d-vector."""
    blocks = []
    for _ in range((m + d - 1) // d):
        q, _ = torch.linalg.qr(torch.randn(d, d, generator=G))
        blocks.append(q.t())
    w = torch.cat(blocks)[:m]
    norms = torch.randn(m, d, generator=G).norm(dim=1)
    return norms[:, None] * w


# --- the cases -----------------------------------------------------------------

def case(name, description, formula, config, inputs, params, run):
    """run(**leaves) -> (context, weights or None)."""
    leaves = {k: v for k, v in {**inputs, **params}.items() if v.dtype == torch.float64 and v.requires_grad}
    names = sorted(leaves)
    R = torch.randn(*run(**leaves)[0].shape, generator=G)

    def f(*xs):
        return (run(**dict(zip(names, xs)))[0] * R).sum()
    assert torch.autograd.gradcheck(f, tuple(leaves[n] for n in names), eps=1e-6, atol=1e-7, rtol=1e-6), name
    for x in leaves.values():
        x.grad = None  # leaves are shared by the causal and bidirectional cases
    ctx, w = run(**leaves)
    loss = (ctx * R).sum()
    loss.backward()
    outputs = {"context": T(ctx)}
    if w is not None:
        outputs["weights"] = T(w)
    obj = {
        "name": name, "dtype": "float64", "description": description, "formula": formula, "config": config,
        "inputs": {k: T(v) for k, v in inputs.items()},
        "params": {k: T(v) for k, v in params.items()},
        "outputs": outputs,
        "loss": {"definition": "sum(context * R.context)", "R": {"context": T(R)}, "value": loss.item()},
        "grads": {n: T(leaves[n].grad) for n in names},
    }
    with open(os.path.join(HERE, name + ".json"), "w") as fh:
        json.dump(obj, fh)
    print("wrote", name)


def main():
    B = 2
    # rope: 2 heads of 4, causal self-attention over 6 positions, batch 1 padded to 4
    h, d, t = 2, 4, 6
    km = key_mask([t, 4], t)
    q, k, v = rnd(B, t, h * d), rnd(B, t, h * d), rnd(B, t, h * d)
    for causal in (True, False):
        allowed = allowed_of(km, t, causal)
        case("rope_" + ("causal" if causal else "bidir"),
             "scaled-dot attention with rotary positions (Su et al. 2021) on queries and keys, 2 heads of 4",
             ["q' = rope(q), k' = rope(k): pairs (2m, 2m+1) of each head at position p rotated by p*10000^(-2m/d)",
              "weights = softmax(q'_h k'_h^T / sqrt(d), allowed); context_h = weights v_h"],
             {"batch": B, "heads": h, "head_dim": d, "length": t, "causal": causal},
             {"q": q, "k": k, "v": v, "key_mask": km, "allowed": allowed}, {},
             lambda q, k, v, allowed=allowed: softmax_attention(rope(q, h), rope(k, h), v, h, allowed))

    # alibi: 6 heads of 2 (a head count that is not a power of two), 7 positions
    h, d, t = 6, 2, 7
    km = key_mask([t, 5], t)
    q, k, v = rnd(B, t, h * d), rnd(B, t, h * d), rnd(B, t, h * d)
    for causal in (True, False):
        allowed = allowed_of(km, t, causal)
        bias = alibi_bias(h, t, t, symmetric=not causal)
        case("alibi_" + ("causal" if causal else "bidir"),
             "scaled-dot attention with ALiBi (Press et al. 2022), 6 heads of 2: slopes of 4 heads then every other slope of 8",
             ["bias[h,i,j] = -m_h (i - j) (causal) or -m_h |i - j| (bidirectional), m = get_slopes(6)",
              "weights = softmax(q_h k_h^T / sqrt(d) + bias_h, allowed); context_h = weights v_h"],
             {"batch": B, "heads": h, "head_dim": d, "length": t, "causal": causal, "slopes": get_slopes(h)},
             {"q": q, "k": k, "v": v, "key_mask": km, "allowed": allowed}, {},
             lambda q, k, v, allowed=allowed, bias=bias: softmax_attention(q, k, v, h, allowed, bias))

    # t5: 2 heads of 4, 20 positions (distances past the exact buckets), learned table [32, 2]
    h, d, t = 2, 4, 20
    km = key_mask([t, 14], t)
    q, k, v = rnd(B, t, h * d), rnd(B, t, h * d), rnd(B, t, h * d)
    table = rnd(32, h)
    for causal in (True, False):
        allowed = allowed_of(km, t, causal)
        case("t5_" + ("causal" if causal else "bidir"),
             "scaled-dot attention with T5's learned relative bias (Raffel et al. 2020), 2 heads of 4, 32 buckets, max distance 128",
             ["bias[h,i,j] = t5_bias[bucket(j - i), h]; bucket as T5's _relative_position_bucket (bidirectional unless causal)",
              "weights = softmax(q_h k_h^T / sqrt(d) + bias_h, allowed); context_h = weights v_h"],
             {"batch": B, "heads": h, "head_dim": d, "length": t, "causal": causal},
             {"q": q, "k": k, "v": v, "key_mask": km, "allowed": allowed}, {"t5_bias": table},
             lambda q, k, v, t5_bias, allowed=allowed: softmax_attention(q, k, v, h, allowed, t5_bias_of(t5_bias, t, t, not causal)))

    # sliding window: 2 heads of 4, 9 positions; causal w=3 (keys i-2..i), bidirectional w=4 (i-1..i+2)
    h, d, t = 2, 4, 9
    km = key_mask([t, 6], t)
    q, k, v = rnd(B, t, h * d), rnd(B, t, h * d), rnd(B, t, h * d)
    for causal, w, band in ((True, 3, (2, 0)), (False, 4, (1, 2))):
        allowed = allowed_of(km, t, causal, band)
        case("sliding_window_" + ("causal" if causal else "bidir"),
             "scaled-dot attention restricted to a band of w keys (Beltagy et al. 2020's sliding window), 2 heads of 4",
             ["causal: keys i-w+1 .. i; bidirectional: keys i-floor((w-1)/2) .. i+ceil((w-1)/2)",
              "weights = softmax(q_h k_h^T / sqrt(d), allowed and band); context_h = weights v_h"],
             {"batch": B, "heads": h, "head_dim": d, "length": t, "causal": causal, "window": w},
             {"q": q, "k": k, "v": v, "key_mask": km, "allowed": allowed}, {},
             lambda q, k, v, allowed=allowed: softmax_attention(q, k, v, h, allowed))

    # performer: 2 heads of 4, 6 orthogonal random features (fixed draw), 7 positions
    h, d, t, m = 2, 4, 7, 6
    km = key_mask([t, 5], t)
    q, k, v = rnd(B, t, h * d, scale=0.7), rnd(B, t, h * d, scale=0.7), rnd(B, t, h * d)
    w = orthogonal_features(m, d)
    for causal in (True, False):
        allowed = allowed_of(km, t, causal)
        case("performer_" + ("causal" if causal else "bidir"),
             "FAVOR+ attention (Choromanski et al. 2021) with a fixed draw of 6 positive orthogonal random features, 2 heads of 4",
             ["phi(x) = exp(w x~ - |x~|^2/2)/sqrt(m), x~ = x/d^(1/4), w = inputs.features [m,d] shared by the heads",
              "a[i,j] = allowed phi(q_i).phi(k_j) / sum_j allowed phi(q_i).phi(k_j); context_h = a v_h"],
             {"batch": B, "heads": h, "head_dim": d, "length": t, "causal": causal, "features": m},
             {"q": q, "k": k, "v": v, "key_mask": km, "allowed": allowed, "features": w}, {},
             lambda q, k, v, allowed=allowed: performer_attention(q, k, v, h, w, allowed))

    # heads of 32 (attnlab's fused flash kernel): 2 heads, 37 positions (not a
    # multiple of its tiles of 8 keys and 32 queries), batch 1 padded to 26
    h, d, t = 2, 32, 37
    km = key_mask([t, 26], t)
    q, k, v = rnd(B, t, h * d, scale=1.5), rnd(B, t, h * d, scale=1.5), rnd(B, t, h * d)
    allowed = allowed_of(km, t, False)
    case("heads32_bidir",
         "scaled-dot attention, 2 heads of 32, bidirectional, key padding",
         ["weights = softmax(q_h k_h^T / sqrt(d), allowed); context_h = weights v_h"],
         {"batch": B, "heads": h, "head_dim": d, "length": t, "causal": False},
         {"q": q, "k": k, "v": v, "key_mask": km, "allowed": allowed}, {},
         lambda q, k, v: softmax_attention(q, k, v, h, allowed))
    case("heads32_rope_bidir",
         "scaled-dot attention with rotary positions (Su et al. 2021), 2 heads of 32, bidirectional, key padding",
         ["q' = rope(q), k' = rope(k): pairs (2m, 2m+1) of each head at position p rotated by p*10000^(-2m/d)",
          "weights = softmax(q'_h k'_h^T / sqrt(d), allowed); context_h = weights v_h"],
         {"batch": B, "heads": h, "head_dim": d, "length": t, "causal": False},
         {"q": q, "k": k, "v": v, "key_mask": km, "allowed": allowed}, {},
         lambda q, k, v: softmax_attention(rope(q, h), rope(k, h), v, h, allowed))


if __name__ == "__main__":
    main()

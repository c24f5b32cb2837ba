#!/usr/bin/python3
"""PyTorch reference fixtures (float64 autograd) for attnlab's linear attention
(Katharopoulos, Vyas, Pappas & Fleuret 2020, "Transformers are RNNs"), with the
paper's feature map phi(x) = elu(x) + 1, non-causal and causal.

Written from the paper's formulation (eq. 4-6 and the causal recurrence of
section 3.3), not from attnlab's code; the matrix form used for the outputs is
checked against the paper's recurrent form (S_i, z_i prefix sums) to 1e-12,
and every gradient against finite differences with torch.autograd.gradcheck.

What attnlab computes (attention/doc.go, linear.go), and so these files:
  * no scale, no stabiliser eps in the denominator;
  * a masked key contributes nothing: phi(k_j) is taken as 0 (key padding);
  * at a causal site query i sees keys j <= i;
  * heads side by side: q, k [B, T, H*d], v [B, T, H*dv], head h in columns
    h*d ... h*d+d-1; context [B, Tq, H*dv]; weights [B, H, Tq, Tk] are the
    implied phi(q_i).phi(k_j) / sum_j' phi(q_i).phi(k_j') (0 where masked).

Layout as ../long (README there): name, dtype, description, formula, config,
inputs, params, outputs, loss {definition, R, value}, grads; the loss is
L = sum(context * R.context) and grads are dL/d(q, k, v).

Usage: /usr/bin/python3 make_fixtures.py   (Debian's python3-torch 1.13; seconds)
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261216
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


def phi(x):
    return F.elu(x) + 1


def key_mask(lengths, t):
    return torch.tensor([[1 if j < n else 0 for j in range(t)] for n in lengths], dtype=torch.int64)


def linear_attention(q, k, v, h, allowed):
    """Matrix form: A[i,j] = phi(q_i).phi(k_j) where allowed, else 0;
    context_i = sum_j A[i,j] v_j / sum_j A[i,j]; weights = A / sum_j A."""
    fq, fk, V = phi(heads_of(q, h)), phi(heads_of(k, h)), heads_of(v, h)
    a = (fq @ fk.transpose(-1, -2)) * allowed.unsqueeze(1)
    den = a.sum(-1, keepdim=True)
    return merge((a @ V) / den), a / den


def recurrent_form(q, k, v, h, km, causal):
    """The paper's form: S = sum_j phi(k_j) v_j^T, z = sum_j phi(k_j) over the
    kept keys (prefix sums j <= i when causal); context_i = phi(q_i)^T S_i /
    phi(q_i)^T z_i."""
    fq, fk, V = phi(heads_of(q, h)), phi(heads_of(k, h)), heads_of(v, h)
    fk = fk * km[:, None, :, None]
    tq = fq.shape[2]
    outs = []
    for i in range(tq):
        sl = slice(0, i + 1) if causal else slice(None)
        S = fk[:, :, sl].transpose(-1, -2) @ V[:, :, sl]        # [B,H,d,dv]
        z = fk[:, :, sl].sum(2)                                  # [B,H,d]
        num = (fq[:, :, i:i + 1] @ S).squeeze(2)                 # [B,H,dv]
        den = (fq[:, :, i] * z).sum(-1, keepdim=True)
        outs.append(num / den)
    return merge(torch.stack(outs, 2))


def case(name, description, h, d, dv, tq, tk, lengths, causal):
    b = len(lengths)
    q, k, v = rnd(b, tq, h * d), rnd(b, tk, h * d), rnd(b, tk, h * dv)
    km = key_mask(lengths, tk)
    allowed = km[:, None, :].expand(b, tq, tk).clone()
    if causal:
        allowed = allowed * torch.tril(torch.ones(tq, tk, dtype=torch.int64))
    assert (allowed.sum(-1) > 0).all(), "every query keeps a key"
    ctx, w = linear_attention(q, k, v, h, allowed)
    err = (recurrent_form(q, k, v, h, km, causal) - ctx).abs().max().item()
    assert err < 1e-12, "%s: matrix and recurrent forms differ by %g" % (name, err)
    R = torch.randn(ctx.shape, generator=G)
    assert torch.autograd.gradcheck(lambda q, k, v: (linear_attention(q, k, v, h, allowed)[0] * R).sum(),
                                    (q, k, v), eps=1e-6, atol=1e-7, rtol=1e-6), name
    loss = (ctx * R).sum()
    gq, gk, gv = torch.autograd.grad(loss, (q, k, v))
    obj = {
        "name": name, "dtype": "float64", "description": description,
        "formula": [
            "phi(x) = elu(x) + 1 = x + 1 for x > 0, exp(x) otherwise",
            "head h: Q = q[..., h*d:(h+1)*d], K likewise, V = v[..., h*dv:(h+1)*dv]",
            "A[b,h,i,j] = phi(Q_i) . phi(K_j) * allowed[b,i,j]   (no scale)",
            "context[b,i,h*dv:(h+1)*dv] = sum_j A[b,h,i,j] V_j / sum_j A[b,h,i,j]   (no eps)",
            "weights[b,h,i,j] = A[b,h,i,j] / sum_j' A[b,h,i,j']",
            "allowed[b,i,j] = key_mask[b,j]" + (" * (j <= i)" if causal else ""),
            "equal (1e-12) to the recurrent form context_i = phi(Q_i)^T S_i / phi(Q_i)^T z_i, "
            "S_i = sum_j phi(K_j) V_j^T, z_i = sum_j phi(K_j) over the allowed j",
        ],
        "config": {"batch": b, "heads": h, "head_dim": d, "value_head_dim": dv, "query_len": tq, "key_len": tk,
                   "causal": causal, "lengths": lengths},
        "inputs": {"q": T(q), "k": T(k), "v": T(v), "key_mask": T(km), "allowed": T(allowed)},
        "params": {},
        "outputs": {"context": T(ctx), "weights": T(w)},
        "loss": {"definition": "sum(context * R.context)", "R": {"context": T(R)}, "value": loss.item()},
        "grads": {"q": T(gq), "k": T(gk), "v": T(gv)},
    }
    path = os.path.join(HERE, name + ".json")
    with open(path, "w") as fh:
        json.dump(obj, fh)
        fh.write("\n")
    print("wrote %s (%d bytes)" % (name, os.path.getsize(path)))


def main():
    # Rows of q and k hold all heads (H*d values): 18 = 16 + 2 and 17 = 16 + 1 run
    # the AVX-512 passes over 16 values and the Go loop over the tail; a head of 17
    # also runs the per-head gradient kernel (16 + 1).
    case("linear_causal", "causal linear self-attention (phi = elu+1), 2 heads of 9, values 5, length 7, "
         "sequence 1 padded to 4", 2, 9, 5, 7, 7, [7, 4], True)
    case("linear_bidir", "non-causal linear cross-attention (phi = elu+1), 2 heads of 9, values 5, "
         "4 queries over 7 keys, sequence 1's keys padded to 4", 2, 9, 5, 4, 7, [7, 4], False)
    case("linear_bidir_h1", "non-causal linear attention (phi = elu+1), one head of 17, values 6, "
         "5 queries over 6 keys, sequence 1's keys padded to 2", 1, 17, 6, 5, 6, [6, 2], False)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch reference fixtures (float64 autograd) for attnlab's layers that
had none in ../../../shared/fixtures/torch: Transformer encoder and decoder
blocks (nn.TransformerEncoderLayer / nn.TransformerDecoderLayer), multi-layer
and bidirectional GRU and LSTM over padded batches (nn.GRU / nn.LSTM with
pack_padded_sequence), the position-wise FeedForward and Linear.

Writes only the files listed in FILES into this folder (the other JSON files
here come from the shared generator and are left alone). Layout as the shared
fixtures' README: every file is one JSON object with name, dtype,
description, formula, config, inputs, params, outputs, loss {definition, R,
value} and grads; tensors are {"dtype", "shape", "data" (row-major)}; masks
and lengths are int64; L = sum_o sum(outputs[o] * R[o]) and grads are
dL/d(name) for every float input and parameter.

Parameters are written in attnlab's layout and under attnlab's names, so a
test can copy them by name: every linear map is y = x W + b with W [in, out]
(torch's weight transposed); multi-head attention's W_q, W_k, W_v are the
three row blocks of torch's in_proj_weight, transposed. The recurrent
layers keep torch's two biases per layer and direction (b_ih, b_hh; attnlab
fuses them, see README.md).

Everything is computed by torch's own modules (dropout 0, evaluation of the
math path: parameters require grad, so the fused fast path of
TransformerEncoderLayer is not taken); gradients of the inputs are checked
against finite differences with torch.autograd.gradcheck.

Usage: /usr/bin/python3 make_fixtures.py   (Debian's python3-torch 1.13; seconds)
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261215
G = torch.Generator().manual_seed(SEED)


def rnd(*shape, scale=1.0):
    return (torch.randn(*shape, generator=G) * scale).requires_grad_(True)


def T(x):
    x = x.detach()
    if x.dtype in (torch.bool, torch.int64, torch.int32):
        return {"dtype": "int64", "shape": list(x.shape), "data": [int(v) for v in x.reshape(-1).tolist()]}
    return {"dtype": "float64", "shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def key_mask(lengths, t):
    return torch.tensor([[1 if j < n else 0 for j in range(t)] for n in lengths], dtype=torch.int64)


def randomize(module, scale=0.5):
    """Every parameter of module drawn from G (torch's own init draws from the
    global RNG; LayerNorm would start at 1 and 0, which hides swaps)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm3.weight"):
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=G))
            else:
                p.copy_(torch.randn(p.shape, generator=G) * scale)


def write(name, description, formula, config, inputs, params, outputs, R, grads):
    loss = sum((outputs[k].detach() * R[k]).sum() for k in R)
    obj = {
        "name": name, "dtype": "float64", "description": description, "formula": formula, "config": config,
        "inputs": {k: T(v) for k, v in inputs.items()},
        "params": {k: T(v) for k, v in params.items()},
        "outputs": {k: T(v) for k, v in outputs.items()},
        "loss": {"definition": " + ".join("sum(%s * R.%s)" % (k, k) for k in R),
                 "R": {k: T(v) for k, v in R.items()}, "value": float(loss)},
        "grads": {k: T(v) for k, v in grads.items()},
    }
    with open(os.path.join(HERE, name + ".json"), "w") as fh:
        json.dump(obj, fh)
        fh.write("\n")
    print("wrote %s (%d bytes)" % (name, os.path.getsize(os.path.join(HERE, name + ".json"))))


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


# --- Transformer blocks ---------------------------------------------------------

D, HEADS, FF = 6, 2, 10       # model width (heads of 3: odd), feed-forward width


def tr(p):
    return p.t()


def ident(p):
    return p


def layout_grads(loss, leaves, views):
    """dL/d(leaves) and dL/d(views): views maps an attnlab name to (torch
    parameter, layout function); the gradient of a view is the layout
    function applied to its parameter's gradient."""
    params = []
    for p, _ in views.values():
        if not any(p is q for q in params):
            params.append(p)
    gs = torch.autograd.grad(loss, list(leaves.values()) + params)
    out = dict(zip(leaves, gs[:len(leaves)]))
    pg = gs[len(leaves):]
    for n, (p, fn) in views.items():
        out[n] = fn(pg[[i for i, q in enumerate(params) if q is p][0]])
    return out


def layout_params(views):
    return {n: fn(p) for n, (p, fn) in views.items()}


def mha_params(prefix, m):
    """attnlab's multi-head names and layout from nn.MultiheadAttention m."""
    w, b = m.in_proj_weight, m.in_proj_bias
    return {
        prefix + ".W_q": (w, lambda p: p[:D].t()), prefix + ".b_q": (b, lambda p: p[:D]),
        prefix + ".W_k": (w, lambda p: p[D:2 * D].t()), prefix + ".b_k": (b, lambda p: p[D:2 * D]),
        prefix + ".W_v": (w, lambda p: p[2 * D:].t()), prefix + ".b_v": (b, lambda p: p[2 * D:]),
        prefix + ".W_o": (m.out_proj.weight, tr), prefix + ".b_o": (m.out_proj.bias, ident),
    }


def block_params(layer, attns, norms):
    """attnlab name -> (torch parameter, layout function) for a block."""
    out = {}
    for prefix, m in attns:
        ps = mha_params(prefix, m)
        out.update(ps)
    out["ff.lin1.W"] = (layer.linear1.weight, tr)
    out["ff.lin1.b"] = (layer.linear1.bias, ident)
    out["ff.lin2.W"] = (layer.linear2.weight, tr)
    out["ff.lin2.b"] = (layer.linear2.bias, ident)
    for k in range(1, norms + 1):
        n = getattr(layer, "norm%d" % k)
        out["norm%d.gamma" % k] = (n.weight, ident)
        out["norm%d.beta" % k] = (n.bias, ident)
    return out


def activation_of(act):
    # attnlab's "gelu" is the tanh approximation; torch's activation="gelu" is
    # the exact erf form, so the reference passes the tanh form as a callable.
    return "relu" if act == "relu" else gelu_tanh


BLOCK_COMMON = [
    "multi-head attention as torch.nn.MultiheadAttention(6, 2, batch_first=True): W_q = in_proj_weight[0:6]^T, "
    "W_k = in_proj_weight[6:12]^T, W_v = in_proj_weight[12:18]^T, b_q, b_k, b_v the blocks of in_proj_bias, "
    "W_o = out_proj.weight^T, b_o = out_proj.bias",
    "FF(x) = act(x lin1.W + lin1.b) lin2.W + lin2.b (lin1.W = linear1.weight^T [6,10], lin2.W = linear2.weight^T [10,6])",
    "LN: LayerNorm(6, eps 1e-5), norm_k.gamma = normk.weight, norm_k.beta = normk.bias",
    "act: relu, or gelu = F.gelu(approximate='tanh') (attnlab's gelu; torch's activation='gelu' is the exact erf form)",
    "dropout 0; every row of the output is compared, padded positions included (their keys are masked, "
    "their own rows are computed as any other)",
]


def encoder_case(name, pre, act, x, lengths):
    layer = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation=activation_of(act),
                                             layer_norm_eps=1e-5, batch_first=True, norm_first=pre)
    randomize(layer)
    km = key_mask(lengths, x.shape[1])
    views = block_params(layer, [("self_attn", layer.self_attn)], 2)

    def run(x):
        return layer(x, src_key_padding_mask=km == 0)

    assert torch.autograd.gradcheck(run, (x,), eps=1e-6, atol=1e-7, rtol=1e-6), name
    y = run(x)
    R = torch.randn(y.shape, generator=G)
    grads = layout_grads((y * R).sum(), {"x": x}, views)
    cfg = {"batch": x.shape[0], "length": x.shape[1], "dim": D, "heads": HEADS, "ff_dim": FF,
           "activation": act, "pre_ln": pre, "eps": 1e-5, "lengths": lengths}
    if act == "gelu":
        exact = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation="gelu",
                                                 batch_first=True, norm_first=pre)
        exact.load_state_dict(layer.state_dict())
        cfg["exact_gelu_max_abs_diff"] = (exact(x, src_key_padding_mask=km == 0) - y).abs().max().item()
    formula = (["pre-LN (norm_first=True): h = x + SelfAttn(LN1(x)); y = h + FF(LN2(h))"] if pre else
               ["post-LN (norm_first=False): h = LN1(x + SelfAttn(x)); y = LN2(h + FF(h))"])
    formula += ["SelfAttn keys masked by key_mask (src_key_padding_mask = key_mask == 0)"] + BLOCK_COMMON
    write(name, "torch.nn.TransformerEncoderLayer(6, 2, 10, dropout 0, batch_first, norm_first=%s, %s), "
          "key padding" % (pre, act), formula, cfg,
          {"x": x, "key_mask": km}, layout_params(views), {"y": y}, {"y": R}, grads)


def decoder_case(name, pre, act, y0, mem, lengths, mem_lengths):
    layer = torch.nn.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0, activation=activation_of(act),
                                             layer_norm_eps=1e-5, batch_first=True, norm_first=pre)
    randomize(layer)
    t = y0.shape[1]
    km, mkm = key_mask(lengths, t), key_mask(mem_lengths, mem.shape[1])
    causal = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)   # True = masked
    views = block_params(layer, [("self_attn", layer.self_attn), ("cross_attn", layer.multihead_attn)], 3)

    def run(y0, mem):
        return layer(y0, mem, tgt_mask=causal, tgt_key_padding_mask=km == 0, memory_key_padding_mask=mkm == 0)

    assert torch.autograd.gradcheck(run, (y0, mem), eps=1e-6, atol=1e-7, rtol=1e-6), name
    out = run(y0, mem)
    R = torch.randn(out.shape, generator=G)
    grads = layout_grads((out * R).sum(), {"y": y0, "mem": mem}, views)
    cfg = {"batch": y0.shape[0], "length": t, "memory_length": mem.shape[1], "dim": D, "heads": HEADS,
           "ff_dim": FF, "activation": act, "pre_ln": pre, "eps": 1e-5, "lengths": lengths,
           "memory_lengths": mem_lengths}
    formula = (["pre-LN (norm_first=True): h1 = y + SelfAttn(LN1(y)); h2 = h1 + CrossAttn(LN2(h1), mem); "
                "out = h2 + FF(LN3(h2))   (the memory is used as given)"] if pre else
               ["post-LN (norm_first=False): h1 = LN1(y + SelfAttn(y)); h2 = LN2(h1 + CrossAttn(h1, mem)); "
                "out = LN3(h2 + FF(h2))"])
    formula += ["SelfAttn: causal (tgt_mask = triu(ones, 1)) and key padding key_mask; CrossAttn (multihead_attn) "
                "over mem with memory_key_padding_mask = memory_key_mask == 0",
                "cross_attn.* are multihead_attn's parameters, norm3.* norm3's"] + BLOCK_COMMON
    write(name, "torch.nn.TransformerDecoderLayer(6, 2, 10, dropout 0, batch_first, norm_first=%s, %s), "
          "causal self-attention with key padding, padded memory" % (pre, act), formula, cfg,
          {"y": y0, "mem": mem, "key_mask": km, "memory_key_mask": mkm}, layout_params(views),
          {"out": out}, {"out": R}, grads)


# --- recurrent layers -----------------------------------------------------------

def rnn_case(name, kind, layers, bidir, lengths, steps, inp, hid, with_h0):
    b = len(lengths)
    dirs = 2 if bidir else 1
    mod = (torch.nn.GRU if kind == "gru" else torch.nn.LSTM)(inp, hid, layers, batch_first=True,
                                                             bidirectional=bidir)
    randomize(mod)
    x = rnd(b, steps, inp)
    leaves = {"x": x}
    if with_h0:
        leaves["h0"] = rnd(layers * dirs, b, hid)
        if kind == "lstm":
            leaves["c0"] = rnd(layers * dirs, b, hid)
    views = {}
    for l in range(layers):
        for d in range(dirs):
            sfx = "_l%d" % l + ("_reverse" if d else "")
            pre = "%d." % l + ("reverse." if d else "")
            views[pre + "W_ih"] = (getattr(mod, "weight_ih" + sfx), tr)
            views[pre + "W_hh"] = (getattr(mod, "weight_hh" + sfx), tr)
            views[pre + "b_ih"] = (getattr(mod, "bias_ih" + sfx), ident)
            views[pre + "b_hh"] = (getattr(mod, "bias_hh" + sfx), ident)
    lens = torch.tensor(lengths)

    def run(*xs):
        kw = dict(zip(leaves, xs))
        pk = torch.nn.utils.rnn.pack_padded_sequence(kw["x"], lens, batch_first=True, enforce_sorted=False)
        if kind == "lstm":
            init = (kw["h0"], kw["c0"]) if with_h0 else None
            o, (hn, cn) = mod(pk, init)
        else:
            o, hn = mod(pk, kw.get("h0"))
            cn = None
        o, _ = torch.nn.utils.rnn.pad_packed_sequence(o, batch_first=True, total_length=steps)
        return o, hn, cn

    assert torch.autograd.gradcheck(lambda *xs: tuple(v for v in run(*xs) if v is not None),
                                    tuple(leaves.values()), eps=1e-6, atol=1e-7, rtol=1e-6), name
    o, hn, cn = run(*leaves.values())
    outputs = {"outputs": o, "h_n": hn}
    if cn is not None:
        outputs["c_n"] = cn
    R = {k: torch.randn(v.shape, generator=G) for k, v in outputs.items()}
    grads = layout_grads(sum((outputs[k] * R[k]).sum() for k in R), leaves, views)
    gates = "r, z, n" if kind == "gru" else "i, f, g, o"
    formula = [
        "torch.nn.%s(%d, %d, num_layers=%d, bidirectional=%s, batch_first=True) on "
        "pack_padded_sequence(x, lengths, enforce_sorted=False), outputs padded back to %d steps with 0"
        % (kind.upper(), inp, hid, layers, bidir, steps),
        "l.W_ih = weight_ih_l{l}^T [in, %d*H], l.W_hh = weight_hh_l{l}^T [H, %d*H] (gate blocks %s side by "
        "side), l.b_ih = bias_ih_l{l}, l.b_hh = bias_hh_l{l}; l.reverse.* from the *_reverse tensors"
        % (3 if kind == "gru" else 4, 3 if kind == "gru" else 4, gates),
        "layer l > 0 reads the outputs of layer l-1, directions concatenated (forward first)",
        "h0, h_n (and c0, c_n) are [layers*dirs, B, H], index l*dirs + d (torch's order)"
        + ("" if with_h0 else "; no initial state given (zeros)"),
        "past lengths[b] the state stops updating and the outputs are 0; the reverse direction starts at "
        "step lengths[b]-1",
    ]
    if kind == "gru":
        formula.append("attnlab's fused bias: b = [b_ir+b_hr, b_iz+b_hz, b_in], b_hn separate")
    else:
        formula.append("attnlab's fused bias: b = b_ih + b_hh")
    inputs = dict(leaves)
    inputs["lengths"] = lens
    write(name, "%s, %d layer(s), %s, lengths %s over %d steps" % (
        kind.upper(), layers, "bidirectional" if bidir else "unidirectional", lengths, steps),
        formula, {"batch": b, "steps": steps, "input_size": inp, "hidden_size": hid, "layers": layers,
                  "bidirectional": bidir, "lengths": lengths, "initial_state": with_h0},
        inputs, layout_params(views), outputs, R, grads)


# --- FeedForward and Linear -----------------------------------------------------

def feedforward_case(name, act, dim, hidden):
    lin1, lin2 = torch.nn.Linear(dim, hidden), torch.nn.Linear(hidden, dim)
    randomize(lin1)
    randomize(lin2)
    x = rnd(2, 3, dim)
    f = torch.relu if act == "relu" else gelu_tanh

    def run(x):
        return lin2(f(lin1(x)))

    assert torch.autograd.gradcheck(run, (x,), eps=1e-6, atol=1e-7, rtol=1e-6), name
    y = run(x)
    R = torch.randn(y.shape, generator=G)
    views = {"lin1.W": (lin1.weight, tr), "lin1.b": (lin1.bias, ident),
             "lin2.W": (lin2.weight, tr), "lin2.b": (lin2.bias, ident)}
    grads = layout_grads((y * R).sum(), {"x": x}, views)
    cfg = {"dim": dim, "hidden": hidden, "activation": act}
    if act == "gelu":
        cfg["exact_gelu_max_abs_diff"] = (lin2(F.gelu(lin1(x))) - y).abs().max().item()
    write(name, "position-wise feed-forward %d -> %d -> %d, %s" % (dim, hidden, dim, act),
          ["y = act(x lin1.W + lin1.b) lin2.W + lin2.b   (lin1.W = nn.Linear(%d, %d).weight^T)" % (dim, hidden),
           "act: relu, or gelu = F.gelu(approximate='tanh') (attnlab's gelu)"],
          cfg, {"x": x}, layout_params(views), {"y": y}, {"y": R}, grads)


def linear_case(name, bias, n_in, n_out):
    lin = torch.nn.Linear(n_in, n_out, bias=bias)
    randomize(lin)
    x = rnd(2, 3, n_in)
    assert torch.autograd.gradcheck(lin, (x,), eps=1e-6, atol=1e-7, rtol=1e-6), name
    y = lin(x)
    R = torch.randn(y.shape, generator=G)
    views = {"W": (lin.weight, tr)}
    if bias:
        views["b"] = (lin.bias, ident)
    grads = layout_grads((y * R).sum(), {"x": x}, views)
    write(name, "nn.Linear(%d, %d, bias=%s) over the last axis of [2, 3, %d]" % (n_in, n_out, bias, n_in),
          ["y = x W" + (" + b" if bias else "") + "   (W = weight^T [in, out])"],
          {"in": n_in, "out": n_out, "bias": bias}, {"x": x}, layout_params(views), {"y": y},
          {"y": R}, grads)


def main():
    # Transformer blocks: batch 2, length 5 (sequence 1 padded to 3), memory 4 (padded to 2).
    x = rnd(2, 5, D)
    encoder_case("encoder_postln_relu", False, "relu", x, [5, 3])
    x = rnd(2, 5, D)
    encoder_case("encoder_preln_gelu", True, "gelu", x, [5, 3])
    y0, mem = rnd(2, 5, D), rnd(2, 4, D)
    decoder_case("decoder_postln_gelu", False, "gelu", y0, mem, [5, 3], [4, 2])
    y0, mem = rnd(2, 5, D), rnd(2, 4, D)
    decoder_case("decoder_preln_relu", True, "relu", y0, mem, [5, 3], [4, 2])
    # Recurrent layers: unsorted lengths with padding (the LSTM's longest sequence shorter than
    # the batch), hidden 5 (a vector tail).
    rnn_case("gru_seq_l2_bi_packed", "gru", 2, True, [4, 1, 3], 4, 3, 5, True)
    rnn_case("gru_seq_l2", "gru", 2, False, [4, 4], 4, 3, 5, False)
    rnn_case("lstm_seq_l2_bi_packed", "lstm", 2, True, [4, 1, 3], 5, 3, 5, True)   # longest < steps
    rnn_case("lstm_seq_bi", "lstm", 1, True, [3, 3], 3, 3, 5, False)
    feedforward_case("feedforward_relu", "relu", 7, 11)
    feedforward_case("feedforward_gelu", "gelu", 7, 11)
    linear_case("linear", True, 5, 9)
    linear_case("linear_nobias", False, 5, 9)


if __name__ == "__main__":
    main()

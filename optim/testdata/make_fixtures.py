#!/usr/bin/python3
"""PyTorch reference fixtures (float64) for attnlab's optimizers with the
options adam.json leaves out: weight decay (Adam's L2 penalty and AdamW's
decoupled decay), SGD momentum, Nesterov momentum and SGD weight decay.

Each case runs torch.optim (Adam, AdamW, SGD) in float64 for 6 steps on two
parameters of different shapes ([3,5] and [7]: 22 values, so a vector kernel
of 16 lanes runs one full block and a tail), with fresh random gradients at
every step and a learning rate that changes from step to step (a schedule:
the optimizer is given lr_t = lr * factor_t, as attnlab's runs call
Step(BaseLR() * schedule factor) and as torch does when param_groups[0]["lr"]
is set before opt.step()). Before writing, every step is also checked against
the update written out by hand here (the "formula" of each file), to 1e-12.

The initial parameters and the gradients are rounded to float32 (then held as
float64), so a float32 implementation starts from exactly the references'
inputs and differs from them only by its own float32 rounding.

The script also checks that the cases tell the variants apart: AdamW against
Adam with the same weight_decay as L2 penalty, each case against the same
case with its weight decay (or Nesterov momentum) sign-flipped or left out;
each pair differs by more than 1e-3 in some parameter, 100 times the tests'
tolerance.

Layout as adam.json (see ../../../shared/fixtures/torch/README.md for the
common keys): name, dtype, description, formula, config, inputs (the initial
parameters by name), params {} and steps, a list of
  {"t": step (from 1), "lr": the learning rate given at the step,
   "grads": {name: gradient fed}, "params": {name: parameter after the step},
   "state": {"<name>.m", "<name>.v" (Adam) or "<name>.momentum" (SGD with
             momentum): the optimizer's state after the step}}.

Usage: /usr/bin/python3 make_fixtures.py   (Debian's python3-torch; a second)
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20260611
STEPS = 6
FACTORS = [0.5, 1.0, 1.0, 0.8, 0.6, 0.3]  # schedule factor of each step
SHAPES = {"param0": (3, 5), "param1": (7,)}


def f32(x):
    """x rounded to float32, kept as float64."""
    return x.float().double()


def T(x):
    x = x.detach()
    return {"dtype": "float64", "shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def close(a, b, what, tol=1e-12):
    d = (a.detach() - b.detach()).abs().max().item()
    assert d <= tol, "%s: differs by %g" % (what, d)


def dump(name, obj):
    def enc(o, ind):
        pad = " " * ind
        if isinstance(o, dict):
            if not o:
                return "{}"
            if "data" in o and "shape" in o:
                return json.dumps(o, separators=(", ", ": "))
            items = [pad + " " + json.dumps(k) + ": " + enc(v, ind + 1) for k, v in o.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(o, list) and o and isinstance(o[0], dict):
            return "[\n" + ",\n".join(pad + " " + enc(v, ind + 1) for v in o) + "\n" + pad + "]"
        return json.dumps(o)
    path = os.path.join(HERE, name + ".json")
    with open(path, "w") as f:
        f.write(enc(dict(name=name, dtype="float64", **obj), 0) + "\n")
    return path


G = torch.Generator().manual_seed(SEED)
P0 = {k: f32(torch.randn(*s, generator=G)) for k, s in SHAPES.items()}
# param1's gradients are 10x smaller than param0's: the L2 term (wd * p)
# weighs differently on the two.
GRADS = [{k: f32(torch.randn(*s, generator=G) * (1.0 if k == "param0" else 0.1))
          for k, s in SHAPES.items()} for _ in range(STEPS)]


def run_torch(make, state_keys):
    """Runs torch.optim; returns the params and state after each step."""
    ps = {k: v.clone().requires_grad_(True) for k, v in P0.items()}
    opt = make(list(ps.values()))
    base = opt.param_groups[0]["lr"]
    out = []
    for t in range(STEPS):
        opt.param_groups[0]["lr"] = base * FACTORS[t]
        for k, p in ps.items():
            p.grad = GRADS[t][k].clone()
        opt.step()
        st = {}
        for k, p in ps.items():
            for ours, theirs in state_keys:
                st[k + "." + ours] = opt.state[p][theirs].detach().clone()
        out.append(({k: p.detach().clone() for k, p in ps.items()}, st))
    return out


def adam_by_hand(lr, b1, b2, eps, wd, decoupled):
    ps = {k: v.clone() for k, v in P0.items()}
    m = {k: torch.zeros_like(v) for k, v in P0.items()}
    v = {k: torch.zeros_like(x) for k, x in P0.items()}
    out = []
    for t in range(1, STEPS + 1):
        lrt = lr * FACTORS[t - 1]
        st = {}
        for k in ps:
            g = GRADS[t - 1][k]
            if decoupled:
                ps[k] = ps[k] * (1 - lrt * wd)
            else:
                g = g + wd * ps[k]
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g * g
            ps[k] = ps[k] - (lrt / (1 - b1 ** t)) * m[k] / (v[k].sqrt() / math.sqrt(1 - b2 ** t) + eps)
            st[k + ".m"], st[k + ".v"] = m[k], v[k]
        out.append(({k: x.clone() for k, x in ps.items()}, st))
    return out


def sgd_by_hand(lr, momentum, nesterov, wd):
    ps = {k: v.clone() for k, v in P0.items()}
    buf = {}
    out = []
    for t in range(1, STEPS + 1):
        lrt = lr * FACTORS[t - 1]
        st = {}
        for k in ps:
            g = GRADS[t - 1][k] + wd * ps[k]
            if momentum != 0:
                buf[k] = g.clone() if t == 1 else momentum * buf[k] + g
                g = g + momentum * buf[k] if nesterov else buf[k]
                st[k + ".momentum"] = buf[k]
            ps[k] = ps[k] - lrt * g
        out.append(({k: x.clone() for k, x in ps.items()}, st))
    return out


def differ(a, b, what, min_diff=1e-3):
    d = max((a[-1][0][k] - b[-1][0][k]).abs().max().item() for k in SHAPES)
    assert d > min_diff, "%s: the final parameters differ by only %g" % (what, d)
    return d


ADAM = dict(lr=0.02, b1=0.8, b2=0.95, eps=1e-6, wd=0.1)
SGD = dict(lr=0.1, momentum=0.9)

ADAM_FORMULA = [
    "lr_t = lr * factor_t  (the learning rate given at step t, steps[t-1].lr)",
    "adam (L2):  g_t = grad_t + weight_decay * p_{t-1} ;  q = p_{t-1}",
    "adamw (decoupled):  g_t = grad_t ;  q = p_{t-1} * (1 - lr_t * weight_decay)",
    "m_t = beta1 m_{t-1} + (1 - beta1) g_t ;  v_t = beta2 v_{t-1} + (1 - beta2) g_t^2  (m_0 = v_0 = 0)",
    "p_t = q - (lr_t / (1 - beta1^t)) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)",
]
SGD_FORMULA = [
    "lr_t = lr * factor_t  (the learning rate given at step t, steps[t-1].lr)",
    "g = grad_t + weight_decay * p_{t-1}",
    "with momentum mu > 0:  b_1 = g ;  b_t = mu b_{t-1} + g  (no dampening) ;  "
    "g = g + mu b_t (nesterov) or g = b_t",
    "p_t = p_{t-1} - lr_t * g",
]


def adam_case(name, decoupled):
    a = ADAM
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    ref = run_torch(lambda ps: cls(ps, lr=a["lr"], betas=(a["b1"], a["b2"]), eps=a["eps"],
                                   weight_decay=a["wd"], amsgrad=False),
                    [("m", "exp_avg"), ("v", "exp_avg_sq")])
    hand = adam_by_hand(a["lr"], a["b1"], a["b2"], a["eps"], a["wd"], decoupled)
    check(ref, hand, name)
    d = {"no weight decay": differ(ref, adam_by_hand(a["lr"], a["b1"], a["b2"], a["eps"], 0, decoupled), name),
         "negated weight decay": differ(ref, adam_by_hand(a["lr"], a["b1"], a["b2"], a["eps"], -a["wd"], decoupled), name),
         "the other kind of decay": differ(ref, adam_by_hand(a["lr"], a["b1"], a["b2"], a["eps"], a["wd"], not decoupled), name)}
    kind = "torch.optim.AdamW (decoupled weight decay)" if decoupled else \
        "torch.optim.Adam with weight_decay (L2 penalty added to the gradient)"
    return write(name, "%d steps of %s, amsgrad off, on two parameters" % (STEPS, kind), ADAM_FORMULA,
                 dict(optimizer="adamw" if decoupled else "adam", lr=a["lr"], beta1=a["b1"], beta2=a["b2"],
                      eps=a["eps"], weight_decay=a["wd"]), ref, d)


def sgd_case(name, momentum, nesterov, wd):
    lr = SGD["lr"]
    keys = [("momentum", "momentum_buffer")] if momentum else []
    ref = run_torch(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, nesterov=nesterov,
                                               weight_decay=wd, dampening=0), keys)
    hand = sgd_by_hand(lr, momentum, nesterov, wd)
    check(ref, hand, name)
    d = {}
    if wd:
        d["no weight decay"] = differ(ref, sgd_by_hand(lr, momentum, nesterov, 0), name)
        d["negated weight decay"] = differ(ref, sgd_by_hand(lr, momentum, nesterov, -wd), name)
    if nesterov:
        d["plain momentum"] = differ(ref, sgd_by_hand(lr, momentum, False, wd), name)
        d["negated Nesterov term"] = differ(ref, nesterov_negated(lr, momentum, wd), name)
    if momentum:
        d["no momentum"] = differ(ref, sgd_by_hand(lr, 0, False, wd), name)
    opts = ["momentum=%g" % momentum] if momentum else []
    if nesterov:
        opts.append("nesterov")
    if wd:
        opts.append("weight_decay=%g" % wd)
    return write(name, "%d steps of torch.optim.SGD (%s, no dampening) on two parameters" % (STEPS, ", ".join(opts)),
                 SGD_FORMULA, dict(optimizer="sgd", lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=wd),
                 ref, d)


def nesterov_negated(lr, momentum, wd):
    """Nesterov with g - mu b_t in place of g + mu b_t (a sign slip)."""
    ps = {k: v.clone() for k, v in P0.items()}
    buf = {}
    out = []
    for t in range(1, STEPS + 1):
        for k in ps:
            g = GRADS[t - 1][k] + wd * ps[k]
            buf[k] = g.clone() if t == 1 else momentum * buf[k] + g
            ps[k] = ps[k] - lr * FACTORS[t - 1] * (g - momentum * buf[k])
        out.append(({k: x.clone() for k, x in ps.items()}, {}))
    return out


def check(ref, hand, name):
    for t, ((p, s), (hp, hs)) in enumerate(zip(ref, hand), 1):
        for k in p:
            close(p[k], hp[k], "%s step %d %s vs the formula" % (name, t, k))
        assert set(s) == set(hs), (name, sorted(s), sorted(hs))
        for k in s:
            close(s[k], hs[k], "%s step %d %s vs the formula" % (name, t, k))


def write(name, desc, formula, config, ref, diffs):
    steps = []
    for t, (p, s) in enumerate(ref, 1):
        steps.append(dict(t=t, lr=config["lr"] * FACTORS[t - 1],
                          grads={k: T(g) for k, g in GRADS[t - 1].items()},
                          params={k: T(v) for k, v in p.items()},
                          state={k: T(v) for k, v in s.items()}))
    config = dict(config, factors=FACTORS)
    path = dump(name, dict(description=desc, formula=formula, config=config,
                           distinct_from={k: float("%.3g" % v) for k, v in diffs.items()},
                           inputs={k: T(v) for k, v in P0.items()}, params={}, steps=steps))
    print("wrote", os.path.relpath(path, HERE), os.path.getsize(path), "bytes;",
          "final max |diff| vs", ", ".join("%s %.3g" % kv for kv in diffs.items()))
    return path


def main():
    adam_case("adamw_decay", True)
    adam_case("adam_l2", False)
    sgd_case("sgd_momentum", 0.9, False, 0)
    sgd_case("sgd_nesterov", 0.9, True, 0)
    sgd_case("sgd_weight_decay", 0, False, 0.1)
    sgd_case("sgd_nesterov_decay", 0.9, True, 0.1)
    sgd_case("sgd_momentum_decay", 0.9, False, 0.1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes core/src/main/resources/dev/ditspark/core/engine/fused_ops.pt, the TorchScript module behind
dev.ditspark.core.engine.FusedOps.

The module holds no parameters, only methods that each call one fused PyTorch kernel, so the Java side gets
PyTorch's own forward and backward (autograd is recorded when DJL runs a method with grad mode on):

  gelu_tanh(x)          torch.nn.functional.gelu(x, approximate="tanh")   (one gelu + one gelu_backward,
                        instead of 9 composed ops each way)
  attention(q, k, v)    torch.nn.functional.scaled_dot_product_attention(q, k, v) over (N, heads, T, d):
                        softmax(q·kᵀ/√d)·v; flash or memory-efficient kernels on CUDA, the flash CPU kernel
                        here, and no T×T score tensor saved for backward.
  adamw_(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, weight_decay, eps)
                        torch._fused_adamw_: torch.optim.AdamW(fused=True)'s one-pass update of every
                        parameter in place (amsgrad and maximize off); steps holds each parameter's step
                        count t (already incremented) as a 0-d float32 tensor on the parameters' device.
  ema_(ema, params, decay)
                        ema ← decay·ema + (1 − decay)·param for every pair, as the DiT reference's
                        update_ema does it (mul_ then add_ with alpha), as two foreach ops.

The file is device-agnostic (no tensors inside): every method runs on the device its inputs are on.

Usage (a CPU PyTorch >= 2.0 is enough: `pip install torch --index-url https://download.pytorch.org/whl/cpu`):

    python3 tools/torchscript/make_fused_ops.py            # writes the resource
    python3 tools/torchscript/make_fused_ops.py --check    # also compares every method with eager PyTorch

The committed file was written by torch 2.13.0 (CPU); DJL 0.36's libtorch 2.7.1 loads it (the ops it calls
exist with the same schema in both). The writing torch version is recorded inside the file as the extra file
"torch_version.txt" and printed by this script.
"""
import argparse
import os
from typing import List

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "core", "src", "main", "resources",
                   "dev", "ditspark", "core", "engine", "fused_ops.pt")


class FusedOps(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")

    @torch.jit.export
    def gelu_tanh(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate="tanh")

    @torch.jit.export
    def attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)

    @torch.jit.export
    def adamw_(self, params: List[torch.Tensor], grads: List[torch.Tensor], exp_avgs: List[torch.Tensor],
               exp_avg_sqs: List[torch.Tensor], steps: List[torch.Tensor], lr: float, beta1: float, beta2: float,
               weight_decay: float, eps: float) -> int:
        torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=lr, beta1=beta1, beta2=beta2,
                            weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)
        return len(params)

    @torch.jit.export
    def ema_(self, ema: List[torch.Tensor], params: List[torch.Tensor], decay: float) -> int:
        torch._foreach_mul_(ema, decay)
        torch._foreach_add_(ema, params, alpha=1.0 - decay)
        return len(ema)


def check(m):
    torch.manual_seed(0)
    x = torch.randn(3, 5, 7, requires_grad=True)
    y = m.gelu_tanh(x)
    y.backward(torch.ones_like(y))
    x2 = x.detach().clone().requires_grad_()
    c = 0.5 * x2 * (1 + torch.tanh((2 / torch.pi) ** 0.5 * (x2 + 0.044715 * x2 ** 3)))
    c.backward(torch.ones_like(c))
    print("gelu_tanh max |Δ| forward %.3g backward %.3g" % ((y - c).detach().abs().max(), (x.grad - x2.grad).abs().max()))
    q, k, v = (torch.randn(2, 4, 16, 8, requires_grad=True) for _ in range(3))
    o = m.attention(q, k, v)
    o.sum().backward()
    qs, ks, vs = (t.detach().clone().requires_grad_() for t in (q, k, v))
    r = torch.softmax(qs @ ks.transpose(-1, -2) / 8 ** 0.5, -1) @ vs
    r.sum().backward()
    print("attention max |Δ| forward %.3g dq %.3g dk %.3g dv %.3g" % (
        (o - r).detach().abs().max(), (q.grad - qs.grad).abs().max(), (k.grad - ks.grad).abs().max(),
        (v.grad - vs.grad).abs().max()))


def check_optim(m):
    torch.manual_seed(0)
    ps = [torch.randn(s) for s in [(64, 32), (32,), (7, 5, 3)]]
    ref = [p.clone().requires_grad_() for p in ps]
    opt = torch.optim.AdamW(ref, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, foreach=False)
    mine = [p.clone() for p in ps]
    ms = [torch.zeros_like(p) for p in ps]
    vs = [torch.zeros_like(p) for p in ps]
    for step in range(1, 21):
        gs = [torch.randn(p.shape) for p in ps]
        for p, g in zip(ref, gs):
            p.grad = g
        opt.step()
        st = torch.tensor(float(step))
        with torch.no_grad():
            m.adamw_(mine, gs, ms, vs, [st] * len(ps), 1e-2, 0.9, 0.999, 0.01, 1e-8)
    print("adamw_ vs torch.optim.AdamW(foreach=False), 20 steps: max relative |Δ| %.3g" % max(
        ((a - b).abs().max() / a.abs().max()).item() for a, b in zip(ref, mine)))
    e = [p.clone() for p in ps]
    e2 = [p.clone() for p in ps]
    m.ema_(e, mine, 0.999)
    for a, p in zip(e2, mine):
        a.mul_(0.999).add_(p, alpha=1 - 0.999)
    print("ema_ vs mul_/add_: bit-identical %s" % all(torch.equal(a, b) for a, b in zip(e, e2)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=OUT, help="where to write the module (default: the core resource)")
    ap.add_argument("--check", action="store_true", help="compare each method with eager PyTorch")
    args = ap.parse_args()
    m = torch.jit.script(FusedOps())
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    torch.jit.save(m, out, _extra_files={"torch_version.txt": torch.__version__})
    print("wrote %s with torch %s" % (out, torch.__version__))
    if args.check:
        loaded = torch.jit.load(out)
        check(loaded)
        check_optim(loaded)


if __name__ == "__main__":
    main()

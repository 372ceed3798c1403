"""Writes core/src/main/resources/dev/ditspark/core/engine/linalg_ops.pt, the TorchScript module behind
dev.ditspark.core.eval.LinalgOps: libtorch's LAPACK (CPU) or cuSOLVER (CUDA) symmetric eigensolver for the
Frechet distance at FID's 2048 dimensions, which DJL does not expose.

  trace_sqrt_product(s1, s2)   tr (s1 s2)^(1/2) for symmetric positive semi-definite s1, s2 (float64):
                               s1 = V diag(l) V^T by torch.linalg.eigh, R = V diag(sqrt(max(l, 0))) V^T,
                               then the sum of sqrt(max(mu, 0)) over torch.linalg.eigvalsh(R s2 R), whose
                               eigenvalues are those of s1 s2. Returns a 0-d float64 tensor.

The module holds no tensors: it runs on the device of its inputs.

    python3 tools/torchscript/make_linalg_ops.py            # writes the resource
    python3 tools/torchscript/make_linalg_ops.py --check    # also compares with scipy.linalg.sqrtm

The committed file was written by torch 2.13.0 (CPU); DJL 0.36's libtorch 2.7.1 loads it (LinalgOps smoke-tests
it on load and falls back to Apache Commons Math when it cannot).
"""
import argparse
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "core", "src", "main", "resources",
                   "dev", "ditspark", "core", "eval", "linalg_ops.pt")


class LinalgOps(torch.nn.Module):
    def forward(self, s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
        return self.trace_sqrt_product(s1, s2)

    @torch.jit.export
    def trace_sqrt_product(self, s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
        s1 = 0.5 * (s1 + s1.t())
        vals, vecs = torch.linalg.eigh(s1)
        root = (vecs * vals.clamp(min=0).sqrt()) @ vecs.t()
        inner = root @ s2 @ root
        inner = 0.5 * (inner + inner.t())
        return torch.linalg.eigvalsh(inner).clamp(min=0).sqrt().sum()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    m = torch.jit.script(LinalgOps())
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.jit.save(m, args.out, _extra_files={"torch_version.txt": torch.__version__})
    print("wrote", os.path.abspath(args.out), "with torch", torch.__version__)
    if args.check:
        import numpy as np
        from scipy import linalg
        rng = np.random.default_rng(0)
        a = rng.normal(size=(300, 64))
        b = rng.normal(size=(200, 64)) * 1.3
        s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        want = np.trace(linalg.sqrtm(s1 @ s2).real)
        got = float(torch.jit.load(args.out).trace_sqrt_product(torch.from_numpy(s1), torch.from_numpy(s2)))
        print("trace sqrt: scipy", want, "module", got)
        assert abs(want - got) < 1e-9 * abs(want)


if __name__ == "__main__":
    main()

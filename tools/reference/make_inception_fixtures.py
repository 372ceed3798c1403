#!/usr/bin/env python3
"""Fixtures for the FID Inception network and the ADM evaluation metrics (tools/reference/README.md, section
"Inception and metrics fixtures"):

    python3 tools/reference/make_inception_fixtures.py --out core/src/test/resources/fixtures

- inception_random.safetensors: inputs and outputs of the full-width FID Inception-v3 (inception_reference.py)
  whose 23.9M weights are generated from seed 0 by the counter-based formula of inception_reference.uniform,
  which the Java side regenerates bit for bit, so no weights are committed (only images and outputs, ~60 KB).
  The metadata lists every weight key with its shape (the names the converted pt_inception .pth has).
- eval_metrics.safetensors: small random feature sets and ADM's FID (scipy sqrtm), Inception Score (split size
  given) and improved precision/recall (k = 3) computed with numpy/scipy as ADM's evaluator defines them.

Needs torch, numpy, scipy. Deterministic (seeds fixed, one thread); prints each file's sha256.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch
from scipy import linalg

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inception_reference as ref  # noqa: E402
from safetensors_io import load_file, save_file  # noqa: E402

torch.set_num_threads(1)
SEED = 0


def save_checked(tensors, path, metadata):
    tensors = {k: np.ascontiguousarray(v.detach().numpy() if hasattr(v, "detach") else v) for k, v in tensors.items()}
    save_file(tensors, path, metadata)
    back, meta = load_file(path)
    assert meta == metadata and set(back) == set(tensors), path
    for k, v in tensors.items():
        assert back[k].tobytes() == v.tobytes(), k
        assert v.dtype == np.uint8 or np.isfinite(v).all(), k
    with open(path, "rb") as f:
        print(path, os.path.getsize(path), "bytes, sha256", hashlib.sha256(f.read()).hexdigest())


def inception(out_dir):
    model = ref.FidInceptionV3().eval()
    ref.randomize(model, SEED)
    n_params = sum(int(np.prod(s)) for s in ref.weight_keys(model).values())
    rng = np.random.default_rng(3)
    # Smooth random images (a blurred noise field plus a gradient) so the resize sees structure, not just noise.
    base = rng.normal(size=(3, 10, 12, 3))
    up = np.repeat(np.repeat(base, 4, axis=1), 4, axis=2)  # (3, 40, 48, 3)
    grad = np.linspace(0, 1, 48)[None, None, :, None]
    images = np.clip(128 + 60 * up + 40 * grad + rng.normal(scale=20, size=up.shape), 0, 255).astype(np.uint8)
    with torch.no_grad():
        pool, spatial, logits = model(torch.from_numpy(images))
        # Every stage matters: zeroing Mixed_7c's 1x1 branch changes the pool features.
        w = model.Mixed_7c.branch1x1.bn.weight
        saved = w.clone()
        w.zero_()
        pool2, _, _ = model(torch.from_numpy(images))
        w.copy_(saved)
    assert pool.shape == (3, 2048) and spatial.shape == (3, 2023) and logits.shape == (3, 1008)
    assert (pool2 - pool).abs().max() > 0.01 * pool.abs().max(), "Mixed_7c has no effect"
    assert pool.std() > 0.05 * pool.abs().mean() and spatial.std() > 0 and logits.std() > 0.1, "degenerate outputs"
    # Images differ in their features (the network is not constant).
    assert (pool[0] - pool[1]).abs().max() > 0.01 * pool.abs().max()
    meta = {"seed": str(SEED), "parameters": str(n_params), "keys": json.dumps(ref.weight_keys(model))}
    path = os.path.join(out_dir, "inception_random.safetensors")
    save_checked({"io.images": images, "io.pool": pool, "io.spatial": spatial, "io.logits": logits}, path, meta)
    # A sample of the generated weights, so a Java mismatch in the formula shows before the forward does.
    print("parameters", n_params, "Conv2d_1a_3x3.conv.weight[:3]", model.Conv2d_1a_3x3.conv.weight.flatten()[:3])


# ---- ADM's metrics in numpy/scipy (guided-diffusion evaluations/evaluator.py, read for its definitions) ----

def fid(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1.dot(s2))
    covmean = covmean.real
    d = mu1 - mu2
    return float(d.dot(d) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def inception_score(logits, split):
    z = logits.astype(np.float64)
    z = z - z.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    scores = []
    for i in range(0, len(p), split):
        part = p[i:i + split]
        kl = part * (np.log(part) - np.log(part.mean(0, keepdims=True)))
        scores.append(np.exp(kl.sum(1).mean()))
    return float(np.mean(scores))


def sq_dist(u, v):
    u = u.astype(np.float64)
    v = v.astype(np.float64)
    return ((u[:, None, :] - v[None, :, :]) ** 2).sum(-1)


def precision_recall(ref_f, sample_f, k=3):
    r_ref = np.partition(sq_dist(ref_f, ref_f), k, axis=1)[:, k]  # the k-th neighbour (index 0 is the point itself)
    r_smp = np.partition(sq_dist(sample_f, sample_f), k, axis=1)[:, k]
    d = sq_dist(ref_f, sample_f)  # (ref, sample)
    precision = float((d <= r_ref[:, None]).any(0).mean())  # samples inside some reference ball
    recall = float((d <= r_smp[None, :]).any(1).mean())  # references inside some sample ball
    # No comparison within 1e-5 relative of its radius, so float32 rounding in Java cannot flip one.
    margin = min(np.abs(d - r_ref[:, None]).min() / r_ref.max(), np.abs(d - r_smp[None, :]).min() / r_smp.max())
    return precision, recall, float(margin)


def metrics(out_dir):
    rng = np.random.default_rng(7)
    a = rng.normal(size=(200, 24)).astype(np.float32)
    mix = rng.normal(scale=0.3, size=(24, 24))
    b = (rng.normal(size=(150, 24)) @ (np.eye(24) + mix) + 0.2).astype(np.float32)
    logits = (rng.normal(size=(230, 10)) * 2.0).astype(np.float32)
    ref_f = rng.normal(size=(120, 16)).astype(np.float32)
    smp_f = (rng.normal(size=(90, 16)) * 1.15 + 0.25).astype(np.float32)
    p, r, margin = precision_recall(ref_f, smp_f)
    assert margin > 1e-5, margin
    assert 0.05 < p < 0.95 and 0.05 < r < 0.95, (p, r)
    results = {"fid_ab": fid(a, b), "fid_aa": fid(a, a), "is_split100": inception_score(logits, 100),
               "is_split1000": inception_score(logits, 1000), "precision": p, "recall": r}
    assert abs(results["fid_aa"]) < 1e-8
    path = os.path.join(out_dir, "eval_metrics.safetensors")
    save_checked({"fid.a": a, "fid.b": b, "is.logits": logits, "pr.ref": ref_f, "pr.sample": smp_f}, path,
                 {"results": json.dumps(results, sort_keys=True)})
    print(results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    inception(args.out)
    metrics(args.out)


if __name__ == "__main__":
    main()

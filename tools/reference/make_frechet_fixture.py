#!/usr/bin/env python3
"""Fixture for FrechetDistanceTest: two sets of feature vectors, numpy's mean/cov of each and the Fréchet
distance computed as pytorch-fid does (scipy.linalg.sqrtm of Σ1·Σ2). Needs python3-numpy and python3-scipy.

    python3 tools/reference/make_frechet_fixture.py > core/src/test/resources/fixtures/frechet_distance.json
"""
import json

import numpy as np
from scipy import linalg


def main():
    rng = np.random.default_rng(20240611)
    dim = 6
    # Correlated, non-commuting covariances: a random linear map of white noise, different per set.
    a = (rng.standard_normal((40, dim)) @ rng.standard_normal((dim, dim))).astype(np.float32)
    b = (rng.standard_normal((50, dim)) @ rng.standard_normal((dim, dim)) + 0.7).astype(np.float32)
    stats = []
    for x in (a, b):
        x64 = x.astype(np.float64)
        stats.append((x64.mean(axis=0), np.cov(x64, rowvar=False)))
    (mu1, s1), (mu2, s2) = stats
    covmean = np.real(linalg.sqrtm(s1 @ s2))
    fd = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    out = {
        "dim": dim,
        "a": a.ravel().tolist(), "a_count": a.shape[0],
        "b": b.ravel().tolist(), "b_count": b.shape[0],
        "a_mean": mu1.tolist(), "a_cov": s1.ravel().tolist(),
        "b_mean": mu2.tolist(), "b_cov": s2.ravel().tolist(),
        "fd": fd,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

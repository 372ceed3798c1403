#!/usr/bin/env python3
"""Scores demo samples the way `dit eval` does, with a choice of real split, for choosing settings on the
training split only (docs/demo.md), and checks how the classifier sees mirrored real images.

Same classifier (the safetensors `dit eval` caches: conv3x3(1->16) ReLU maxpool2, conv3x3(16->32) ReLU maxpool2,
Linear(1568->64) ReLU = features, Linear(64->10)), same pixel mapping (mean of R, G, B; q/127.5 - 1), same
Frechet distance formula; on the test split it prints what `dit eval` prints, to the printed digits.

  python3 tools/demo/score.py --classifier runs/demo/classifier/fashion-mnist-cnn.safetensors \
      --samples runs/demo/samples/samples.npz [--real train|t10k]       # accuracy, per class, FD to 10,000 real
  python3 tools/demo/score.py --classifier ... --mirror                  # real training images vs their mirrors

Needs torch, numpy, scipy and safetensors (pip; the reference tools in tools/reference/ need the same) and
Debian's dataset-fashion-mnist (bin/setup installs it). Not used by the build or the tests.
"""
import argparse
import gzip

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from safetensors.numpy import load_file

DATA = "/usr/share/datasets/fashion-mnist"
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def classifier(path):
    w = {k: torch.from_numpy(v) for k, v in load_file(path).items()}

    def apply(x):  # (N, 1, 28, 28) in [-1, 1] -> logits (N, 10), features (N, 64)
        h = F.max_pool2d(F.relu(F.conv2d(x, w["conv1.weight"], w["conv1.bias"], padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w["conv2.weight"], w["conv2.bias"], padding=1)), 2)
        f = F.relu(F.linear(h.reshape(len(h), -1), w["fc.weight"], w["fc.bias"]))
        return F.linear(f, w["head.weight"], w["head.bias"]), f

    return apply


def real(split):
    with gzip.open(f"{DATA}/{split}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{split}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read()[8:], np.uint8).astype(np.int64)
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1), torch.from_numpy(y)


def frechet(f1, f2):
    a, b = f1.double().numpy(), f2.double().numpy()
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--classifier", required=True)
    p.add_argument("--samples")
    p.add_argument("--real", default="train", choices=["train", "t10k"], help="real split for the FD (10,000 images)")
    p.add_argument("--mirror", action="store_true", help="accuracy on real training images and on their mirrors")
    a = p.parse_args()
    clf = classifier(a.classifier)
    torch.set_grad_enabled(False)
    if a.mirror:
        x, y = real("train")
        x, y = x[:10000], y[:10000]
        pa, pm = clf(x)[0].argmax(1), clf(x.flip(-1))[0].argmax(1)
        for c in range(10):
            m = y == c
            top = np.bincount(pm[m].numpy(), minlength=10)
            top[c] = 0
            print(f"{NAMES[c]:12s} as is {(pa[m] == c).float().mean() * 100:5.1f} %   mirrored "
                  f"{(pm[m] == c).float().mean() * 100:5.1f} %   (mirrored, most often called {NAMES[top.argmax()]}: "
                  f"{top.max() / m.sum().item() * 100:.1f} %)")
    if a.samples:
        z = np.load(a.samples)
        x = torch.from_numpy(z["arr_0"].astype(np.float32).mean(-1) / 127.5 - 1)[:, None]
        y = torch.from_numpy(z["labels"])
        logits, f = clf(x)
        pred = logits.argmax(1)
        per = [(pred[y == c] == c).float().mean().item() * 100 for c in range(10)]
        fd = frechet(f, clf(real(a.real)[0][:10000])[1])
        print(f"class accuracy {(pred == y).float().mean().item() * 100:.1f} % (min {min(per):.0f} %), "
              f"Frechet distance {fd:.2f} to 10000 {a.real} images; per class: "
              + ", ".join(f"{n} {v:.0f}" for n, v in zip(NAMES, per)))


if __name__ == "__main__":
    main()

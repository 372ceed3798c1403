"""Plain-PyTorch Inception-v3 as used for FID: the port of TensorFlow's 2015-12-05 graph that pytorch-fid ships
as pt_inception-2015-12-05 (torchvision's Inception3 trunk with the FID variants of blocks A, C and E), written
from the architecture facts below, with pytorch-fid's state_dict names so the converted .pth loads unchanged.

Facts (torchvision inception.py and pytorch-fid inception.py, read for facts only):
- BasicConv2d = Conv2d(bias=False) -> BatchNorm2d(eps=0.001) -> ReLU; keys <name>.conv.weight,
  <name>.bn.{weight,bias,running_mean,running_var}.
- Stem: Conv2d_1a_3x3 (3->32, k3, s2), Conv2d_2a_3x3 (32->32, k3), Conv2d_2b_3x3 (32->64, k3, p1), max pool 3/2,
  Conv2d_3b_1x1 (64->80), Conv2d_4a_3x3 (80->192, k3), max pool 3/2.
- Mixed_5b/5c/5d: block A (pool features 32, 64, 64); Mixed_6a: block B; Mixed_6b..6e: block C (c7 = 128, 160,
  160, 192); Mixed_7a: block D; Mixed_7b: block E with average pooling, Mixed_7c: block E with max pooling.
- The FID variants: every 3x3 stride-1 average pool excludes the padding (count_include_pad=False); the last block
  (FIDInceptionE_2) pools its branch_pool by 3x3 stride-1 max pooling.
- Then global average pooling (TF's pool_3, 2048-d) and fc 2048 -> 1008 (TF's softmax/logits).
- Input (pytorch-fid): images in [0, 1] resized to 299x299 by bilinear interpolation (align_corners=False, no
  antialias), then scaled to [-1, 1] by 2x - 1.
- ADM's evaluator (guided-diffusion evaluations/evaluator.py): pool features = pool_3; spatial features =
  "mixed_6/conv" (the TF graph's 7th mixed block = Mixed_6d, its 1x1 branch after BN and ReLU), first 7 channels,
  flattened in NHWC order (17*17*7 = 2023); IS logits = pool_3 @ W of softmax/logits, without the bias.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def _avg3(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x):
        a = self.branch1x1(x)
        b = self.branch5x5_2(self.branch5x5_1(x))
        c = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        d = self.branch_pool(_avg3(x))
        return torch.cat([a, b, c, d], 1)


class BlockB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x):
        a = self.branch3x3(x)
        b = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([a, b, F.max_pool2d(x, 3, stride=2)], 1)


class BlockC(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x):
        a = self.branch1x1(x)
        b = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        c = x
        for m in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                  self.branch7x7dbl_5):
            c = m(c)
        d = self.branch_pool(_avg3(x))
        return torch.cat([a, b, c, d], 1)


class BlockD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x):
        a = self.branch3x3_2(self.branch3x3_1(x))
        b = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([a, b, F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    def __init__(self, cin, max_pool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x):
        a = self.branch1x1(x)
        b1 = self.branch3x3_1(x)
        b = torch.cat([self.branch3x3_2a(b1), self.branch3x3_2b(b1)], 1)
        c1 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        c = torch.cat([self.branch3x3dbl_3a(c1), self.branch3x3dbl_3b(c1)], 1)
        p = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg3(x)
        return torch.cat([a, b, c, self.branch_pool(p)], 1)


class FidInceptionV3(nn.Module):
    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = BlockA(192, 32)
        self.Mixed_5c = BlockA(256, 64)
        self.Mixed_5d = BlockA(288, 64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b = BlockC(768, 128)
        self.Mixed_6c = BlockC(768, 160)
        self.Mixed_6d = BlockC(768, 160)
        self.Mixed_6e = BlockC(768, 192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b = BlockE(1280, max_pool=False)
        self.Mixed_7c = BlockE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)

    def forward(self, images_uint8_nhwc):
        """(N, H, W, 3) uint8 -> (pool (N, 2048), spatial (N, 2023), logits (N, 1008), no bias as ADM)."""
        x = images_uint8_nhwc.permute(0, 3, 1, 2).float() / 255.0
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for m in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c):
            x = m(x)
        spatial = self.Mixed_6d.branch1x1(x)[:, :7]  # TF "mixed_6/conv", first 7 channels
        spatial = spatial.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        x = self.Mixed_6d(x)
        for m in (self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = m(x)
        pool = x.mean(dim=(2, 3))
        logits = pool @ self.fc.weight.t()
        return pool, spatial, logits


# ---- deterministic weights that Java regenerates bit for bit (FidInception.randomWeights) ----

MASK = (1 << 64) - 1


def _splitmix64(z):
    """SplitMix64 finaliser on uint64 numpy arrays (wrapping arithmetic)."""
    z = (z + np.uint64(0x9E3779B97F4A7C15))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def uniform(key, seed, count, lo, hi):
    """count float32 values in [lo, hi): element i = lo + (hi - lo) * u_i in float64, rounded to float32, where
    u_i = (splitmix64(splitmix64(fnv1a64(key) ^ seed) + i) >> 11) * 2^-53."""
    with np.errstate(over="ignore"):
        base = _splitmix64(np.array([_fnv1a64(key) ^ (seed & MASK)], dtype=np.uint64))[0]
        z = _splitmix64(base + np.arange(count, dtype=np.uint64))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return (lo + (hi - lo) * u).astype(np.float32)


def value_range(key, shape):
    """The range each key is drawn from: He-uniform convolutions (so activations keep their scale through ReLUs),
    BatchNorm scale and variance in [0.8, 1.2], shifts and means in [-0.1, 0.1]."""
    if key.endswith("conv.weight"):
        a = float(np.sqrt(6.0 / int(np.prod(shape[1:]))))
        return -a, a
    if key == "fc.weight":
        a = float(np.sqrt(3.0 / shape[1]))
        return -a, a
    if key.endswith("bn.weight") or key.endswith("running_var"):
        return 0.8, 1.2
    return -0.1, 0.1  # bn.bias, running_mean, fc.bias


@torch.no_grad()
def randomize(model, seed):
    for key, t in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        lo, hi = value_range(key, tuple(t.shape))
        t.copy_(torch.from_numpy(uniform(key, seed, t.numel(), lo, hi)).reshape(t.shape))


def weight_keys(model):
    """The keys dit-spark loads (pytorch-fid's state_dict without BatchNorm's num_batches_tracked)."""
    return {k: list(v.shape) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}

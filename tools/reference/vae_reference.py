"""Plain-PyTorch reimplementation of diffusers' AutoencoderKL (Stable Diffusion's KL-f8 VAE).

Written from the architecture facts only (no diffusers import), with diffusers' state_dict key names, so
its state_dict is what a published `diffusion_pytorch_model.safetensors` holds. Facts:
- GroupNorm(norm_num_groups, eps 1e-6, affine) and SiLU everywhere; dropout 0; output scale 1.
- ResnetBlock2D: x + conv2(silu(norm2(conv1(silu(norm1(x)))))); 1x1 `conv_shortcut` when in != out.
- Encoder: conv_in 3x3; per level i a DownEncoderBlock2D with layers_per_block resnets (the first from the
  previous width), then on all but the last level `downsamplers.0.conv`: pad (0,1,0,1) with zeros, 3x3
  conv stride 2 padding 0; mid block (resnet, attention, resnet); conv_norm_out, silu, conv_out to 2*latent.
- Mid attention: one head of dim C: group_norm, to_q/to_k/to_v/to_out.0 Linear(C, C) over the H*W
  positions, softmax(q k^T / sqrt(C)) v, residual added.
- Decoder: conv_in latent -> top width; mid block; per level (reversed widths) layers_per_block + 1 resnets,
  then on all but the last `upsamplers.0.conv`: nearest x2 then 3x3 conv; conv_norm_out, silu, conv_out.
- quant_conv 1x1 (2L -> 2L) after the encoder, post_quant_conv 1x1 (L -> L) before the decoder.
- Posterior: mean, logvar = chunk(2, dim=1); logvar clamped to [-30, 20]; std = exp(0.5 logvar).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-6


class Resnet(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=EPS)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=EPS)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.conv_shortcut = nn.Conv2d(cin, cout, 1)
        else:
            self.conv_shortcut = None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        skip = x if self.conv_shortcut is None else self.conv_shortcut(x)
        return skip + h


class Down(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0.0))


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Attn(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=EPS)
        self.to_q = nn.Linear(c, c)
        self.to_k = nn.Linear(c, c)
        self.to_v = nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c)])

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.group_norm(x).reshape(n, c, h * w).transpose(1, 2)  # (N, T, C)
        q, k, v = self.to_q(t), self.to_k(t), self.to_v(t)
        a = torch.softmax(q @ k.transpose(1, 2) / (c ** 0.5), dim=-1)
        o = self.to_out[0](a @ v)
        return o.transpose(1, 2).reshape(n, c, h, w) + x


class Mid(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.resnets = nn.ModuleList([Resnet(c, c, groups), Resnet(c, c, groups)])
        self.attentions = nn.ModuleList([Attn(c, groups)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class Level(nn.Module):
    """One DownEncoderBlock2D / UpDecoderBlock2D: resnets plus an optional resampler."""

    def __init__(self, cin, cout, layers, groups, sampler=None, sampler_name=None):
        super().__init__()
        self.resnets = nn.ModuleList([Resnet(cin if j == 0 else cout, cout, groups) for j in range(layers)])
        self.sampler_name = sampler_name
        if sampler is not None:
            setattr(self, sampler_name, nn.ModuleList([sampler]))

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        if self.sampler_name is not None and hasattr(self, self.sampler_name):
            x = getattr(self, self.sampler_name)[0](x)
        return x


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, g = cfg["block_out_channels"], cfg["norm_num_groups"]
        self.conv_in = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        levels, cin = [], ch[0]
        for i, cout in enumerate(ch):
            last = i == len(ch) - 1
            levels.append(Level(cin, cout, cfg["layers_per_block"], g, None if last else Down(cout), "downsamplers"))
            cin = cout
        self.down_blocks = nn.ModuleList(levels)
        self.mid_block = Mid(ch[-1], g)
        self.conv_norm_out = nn.GroupNorm(g, ch[-1], eps=EPS)
        self.conv_out = nn.Conv2d(ch[-1], 2 * cfg["latent_channels"], 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        for lvl in self.down_blocks:
            h = lvl(h)
        h = self.mid_block(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, g = cfg["block_out_channels"], cfg["norm_num_groups"]
        rev = list(reversed(ch))
        self.conv_in = nn.Conv2d(cfg["latent_channels"], rev[0], 3, padding=1)
        self.mid_block = Mid(rev[0], g)
        levels, cin = [], rev[0]
        for i, cout in enumerate(rev):
            last = i == len(rev) - 1
            levels.append(Level(cin, cout, cfg["layers_per_block"] + 1, g, None if last else Up(cout), "upsamplers"))
            cin = cout
        self.up_blocks = nn.ModuleList(levels)
        self.conv_norm_out = nn.GroupNorm(g, ch[0], eps=EPS)
        self.conv_out = nn.Conv2d(ch[0], cfg["out_channels"], 3, padding=1)

    def forward(self, z):
        h = self.mid_block(self.conv_in(z))
        for lvl in self.up_blocks:
            h = lvl(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class AutoencoderKL(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        latent = cfg["latent_channels"]
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quant_conv = nn.Conv2d(2 * latent, 2 * latent, 1)
        self.post_quant_conv = nn.Conv2d(latent, latent, 1)

    def encode(self, x):
        """Returns (mean, std) of the diagonal Gaussian posterior."""
        moments = self.quant_conv(self.encoder(x))
        mean, logvar = torch.chunk(moments, 2, dim=1)
        logvar = torch.clamp(logvar, -30.0, 20.0)
        return mean, torch.exp(0.5 * logvar)

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))


SD_KL_F8 = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=[128, 256, 512, 512],
                layers_per_block=2, norm_num_groups=32, scaling_factor=0.18215)

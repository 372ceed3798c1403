"""Reference DiT model and Gaussian diffusion, written from docs/model.md and docs/diffusion.md.

Used only to generate numerical parity fixtures for the Java implementation.
§1 below means docs/model.md, §2 docs/diffusion.md.
"""
import math

import numpy as np
import torch
import torch.nn as nn

CONDITIONINGS = ("adaln-zero", "adaln", "in-context", "cross-attn")


# ----------------------------------------------------------------------------- §1 model pieces

def sincos_pos_embed_2d(dim, grid):
    """(grid*grid, dim) float64. Token k sits at row k // grid, column k % grid.
    First dim/2 dims encode the COLUMN, second dim/2 the ROW (§1)."""
    assert dim % 4 == 0
    omega = 1.0 / 10000 ** (np.arange(dim // 4, dtype=np.float64) / (dim / 4.0))  # ω_i = 1/10000^(i/(D/4))
    k = np.arange(grid * grid)
    row, col = (k // grid).astype(np.float64), (k % grid).astype(np.float64)

    def half(pos):  # [sin(pos·ω), cos(pos·ω)], sin first
        out = np.einsum("m,d->md", pos, omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    return np.concatenate([half(col), half(row)], axis=1)


def timestep_embedding(t, dim=256, max_period=10000):
    """f_i = exp(-ln(10000)·i/128), args = t·f, embedding [cos(args), sin(args)] (cos first) (§1)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def modulate(h, shift, scale):
    """h·(1+scale) + shift, broadcast over tokens (§1)."""
    return h * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


def layer_norm(d):
    return nn.LayerNorm(d, eps=1e-6, elementwise_affine=False)  # eps 1e-6, no affine -> no keys


class PatchEmbed(nn.Module):
    def __init__(self, p, c, d, fk):
        super().__init__()
        self.proj = nn.Conv2d(c, d, kernel_size=p, stride=p, bias=True, **fk)

    def forward(self, x):
        x = self.proj(x)                       # (N, D, H/p, W/p)
        return x.flatten(2).transpose(1, 2)    # row-major tokens (N, T, D)


class TimestepEmbedder(nn.Module):
    def __init__(self, d, fk, freq_dim=256):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, d, **fk), nn.SiLU(), nn.Linear(d, d, **fk))

    def forward(self, t):
        return self.mlp(timestep_embedding(t, self.freq_dim))


class LabelEmbedder(nn.Module):
    """Table of num_classes+1 rows, row num_classes the null class (§1), when labels are dropped in
    training (dropout_prob > 0); num_classes rows otherwise, as the DiT release's models.py
    (use_cfg_embedding = dropout_prob > 0)."""

    def __init__(self, num_classes, d, dropout_prob, fk):
        super().__init__()
        self.num_classes, self.dropout_prob = num_classes, dropout_prob
        use_cfg_embedding = dropout_prob > 0
        self.embedding_table = nn.Embedding(num_classes + int(use_cfg_embedding), d, **fk)

    def forward(self, y, train, force_drop_ids=None):
        # As in the reference: a force-drop mask replaces the random draw entirely (and applies
        # even in eval mode); otherwise each label is dropped with prob dropout_prob in training.
        if force_drop_ids is not None:
            drop = force_drop_ids == 1
        elif train and self.dropout_prob > 0:
            drop = torch.rand(y.shape[0], device=y.device) < self.dropout_prob
        else:
            drop = None
        if drop is not None:
            y = torch.where(drop, torch.full_like(y, self.num_classes), y)
        return self.embedding_table(y)


class Attention(nn.Module):
    """qkv Linear(D->3D) split to (3, heads, D/heads); softmax(q·kᵀ/√(D/heads))·v; proj (§1)."""

    def __init__(self, d, heads, fk):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d, **fk)
        self.proj = nn.Linear(d, d, **fk)

    def forward(self, x):
        n, t, d = x.shape
        hd = d // self.heads
        qkv = self.qkv(x).reshape(n, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                          # (N, heads, T, hd)
        a = torch.softmax((q @ k.transpose(-2, -1)) / math.sqrt(hd), dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(n, t, d))


class CrossAttention(nn.Module):
    """Cross-attention ablation: q Linear(D->D) on the tokens, kv Linear(D->2D) on the context,
    kv split to (2, heads, D/heads) (k first, then v) like qkv; proj Linear(D->D)."""

    def __init__(self, d, heads, fk):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d, **fk)
        self.kv = nn.Linear(d, 2 * d, **fk)
        self.proj = nn.Linear(d, d, **fk)

    def forward(self, x, ctx):
        n, t, d = x.shape
        s, hd = ctx.shape[1], d // self.heads
        q = self.q(x).reshape(n, t, self.heads, hd).transpose(1, 2)
        kv = self.kv(ctx).reshape(n, s, 2, self.heads, hd).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        a = torch.softmax((q @ k.transpose(-2, -1)) / math.sqrt(hd), dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(n, t, d))


class Mlp(nn.Module):
    """fc1 D->4D, GELU tanh approximation, fc2 4D->D (§1)."""

    def __init__(self, d, hidden, fk):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden, **fk)
        self.act = nn.GELU(approximate="tanh")
        self.fc2 = nn.Linear(hidden, d, **fk)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class DiTBlock(nn.Module):
    def __init__(self, d, heads, mlp_ratio, conditioning, fk):
        super().__init__()
        self.conditioning = conditioning
        self.norm1 = layer_norm(d)
        self.attn = Attention(d, heads, fk)
        self.norm2 = layer_norm(d)
        self.mlp = Mlp(d, int(d * mlp_ratio), fk)
        if conditioning == "adaln-zero":   # SiLU, Linear(D->6D)
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d, **fk))
        elif conditioning == "adaln":      # SiLU, Linear(D->4D), no gates
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 4 * d, **fk))
        elif conditioning == "cross-attn":
            self.norm3 = layer_norm(d)
            self.cross_attn = CrossAttention(d, heads, fk)

    def forward(self, x, c, ctx=None):
        if self.conditioning == "adaln-zero":
            # split order: shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp (§1)
            sh1, sc1, g1, sh2, sc2, g2 = self.adaLN_modulation(c).chunk(6, dim=1)
            x = x + g1.unsqueeze(1) * self.attn(modulate(self.norm1(x), sh1, sc1))
            x = x + g2.unsqueeze(1) * self.mlp(modulate(self.norm2(x), sh2, sc2))
        elif self.conditioning == "adaln":
            sh1, sc1, sh2, sc2 = self.adaLN_modulation(c).chunk(4, dim=1)
            x = x + self.attn(modulate(self.norm1(x), sh1, sc1))
            x = x + self.mlp(modulate(self.norm2(x), sh2, sc2))
        elif self.conditioning == "in-context":
            x = x + self.attn(self.norm1(x))
            x = x + self.mlp(self.norm2(x))
        else:  # cross-attn: self-attn, cross-attn to the 2 tokens [t_emb, y_emb], MLP
            x = x + self.attn(self.norm1(x))
            x = x + self.cross_attn(self.norm3(x), ctx)
            x = x + self.mlp(self.norm2(x))
        return x


class FinalLayer(nn.Module):
    def __init__(self, d, p, out_c, modulated, fk):
        super().__init__()
        self.norm_final = layer_norm(d)
        self.modulated = modulated
        if modulated:  # SiLU + Linear(D->2D) split (shift, scale)
            self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d, **fk))
        self.linear = nn.Linear(d, p * p * out_c, **fk)

    def forward(self, x, c):
        x = self.norm_final(x)
        if self.modulated:
            shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
            x = modulate(x, shift, scale)
        return self.linear(x)


class DiT(nn.Module):
    def __init__(self, input_size=32, patch_size=2, in_channels=4, hidden_size=1152, depth=28,
                 num_heads=16, mlp_ratio=4.0, class_dropout_prob=0.1, num_classes=1000,
                 learn_sigma=True, conditioning="adaln-zero", device=None):
        super().__init__()
        assert conditioning in CONDITIONINGS
        fk = {"device": device}
        self.in_channels, self.patch_size, self.num_heads = in_channels, patch_size, num_heads
        self.out_channels = in_channels * 2 if learn_sigma else in_channels
        self.num_classes, self.conditioning = num_classes, conditioning
        self.x_embedder = PatchEmbed(patch_size, in_channels, hidden_size, fk)
        self.t_embedder = TimestepEmbedder(hidden_size, fk)
        self.y_embedder = LabelEmbedder(num_classes, hidden_size, class_dropout_prob, fk)
        grid = input_size // patch_size
        self.grid = grid
        # fixed sin-cos, float64 then float32, never trained, but part of the state_dict (§1)
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid, hidden_size, **fk), requires_grad=False)
        self.blocks = nn.ModuleList(
            [DiTBlock(hidden_size, num_heads, mlp_ratio, conditioning, fk) for _ in range(depth)])
        self.final_layer = FinalLayer(hidden_size, patch_size, self.out_channels,
                                      modulated=(conditioning != "in-context"), fk=fk)
        if device is None or torch.device(device).type != "meta":
            self.initialize_weights()

    def initialize_weights(self):
        """§1 initialisation (fixtures overwrite everything except pos_embed anyway)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        self.pos_embed.data.copy_(torch.from_numpy(
            sincos_pos_embed_2d(self.pos_embed.shape[-1], self.grid)).float().unsqueeze(0))
        w = self.x_embedder.proj.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.x_embedder.proj.bias)
        nn.init.normal_(self.y_embedder.embedding_table.weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[2].weight, std=0.02)
        zero = [b.adaLN_modulation[-1] for b in self.blocks
                if self.conditioning == "adaln-zero"]  # adaLN (non-zero) keeps xavier
        if self.final_layer.modulated:
            zero.append(self.final_layer.adaLN_modulation[-1])
        zero.append(self.final_layer.linear)
        for lin in zero:
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def unpatchify(self, x):
        """token (i, j) holds p·p·C' ordered (patch row, patch col, channel), channel fastest (§1)."""
        c, p, g = self.out_channels, self.patch_size, self.grid
        x = x.reshape(x.shape[0], g, g, p, p, c)
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(x.shape[0], c, g * p, g * p)

    def forward(self, x, t, y, force_drop_ids=None):
        x = self.x_embedder(x) + self.pos_embed
        t_emb = self.t_embedder(t)
        y_emb = self.y_embedder(y, self.training, force_drop_ids)
        c = t_emb + y_emb
        ctx = None
        n_tok = x.shape[1]
        if self.conditioning == "in-context":   # two extra tokens AFTER the patch tokens
            x = torch.cat([x, t_emb.unsqueeze(1), y_emb.unsqueeze(1)], dim=1)
        elif self.conditioning == "cross-attn":
            ctx = torch.stack([t_emb, y_emb], dim=1)  # (N, 2, D)
        for block in self.blocks:
            x = block(x, c, ctx)
        x = x[:, :n_tok]                        # drop in-context tokens (no-op otherwise)
        return self.unpatchify(self.final_layer(x, c))

    def forward_with_cfg(self, x, t, y, cfg_scale, all_channels=False, guided_channels=None):
        """Batch [z; z] with labels [y; null]; uses the first half duplicated (§1 guided forward).
        Default guides output channels [:3] exactly as the reference slices them (NB: for C=1 with
        learn_sigma that is channels 0 AND 1, the variance channel included); all_channels guides
        the C eps channels; guided_channels=n guides output channels [:n]. g = u + s·(c − u) is
        written to both halves; the remaining output channels pass through unguided."""
        half = x[: len(x) // 2]
        out = self.forward(torch.cat([half, half], dim=0), t, y)
        n = self.in_channels if all_channels else (3 if guided_channels is None else guided_channels)
        eps, rest = out[:, :n], out[:, n:]
        cond, uncond = torch.split(eps, len(eps) // 2, dim=0)
        g = uncond + cfg_scale * (cond - uncond)
        return torch.cat([torch.cat([g, g], dim=0), rest], dim=1)


DIT_CONFIGS = {  # (depth, hidden, heads) (§1 table)
    "S": (12, 384, 6), "B": (12, 768, 12), "L": (24, 1024, 16), "XL": (28, 1152, 16)}

SPEC_PARAM_COUNTS = {  # §1, 256 px, 1000 classes, learn_sigma, including pos_embed
    "DiT-S/2": 32963360, "DiT-S/4": 32945024, "DiT-S/8": 33148160,
    "DiT-B/2": 130512416, "DiT-B/4": 130475648, "DiT-B/8": 130881536,
    "DiT-L/2": 458102816, "DiT-L/4": 458053760, "DiT-L/8": 458594816,
    "DiT-XL/2": 675129632, "DiT-XL/4": 675074432, "DiT-XL/8": 675683072,
}


def build_named(name, device="meta", **kw):
    size, p = name[len("DiT-"):].split("/")
    depth, d, heads = DIT_CONFIGS[size]
    return DiT(input_size=32, patch_size=int(p), in_channels=4, hidden_size=d, depth=depth,
               num_heads=heads, num_classes=1000, learn_sigma=True, device=device, **kw)


def count_params(model):
    """Total (including the fixed pos_embed) and per top-level piece."""
    pieces = {}
    for name, prm in model.named_parameters():
        top = name.split(".")[0]
        pieces[top] = pieces.get(top, 0) + prm.numel()
    return sum(pieces.values()), pieces


# ----------------------------------------------------------------------------- §2 diffusion

def space_timesteps(num_timesteps, spec):
    """'ddimN': every (T/N)-th step; 'N': frac stride (T-1)/(N-1), round() of the accumulated
    index (Python round, as the reference). Returns the sorted kept steps."""
    if spec.startswith("ddim"):
        n = int(spec[len("ddim"):])
        for i in range(1, num_timesteps):
            if len(range(0, num_timesteps, i)) == n:
                return list(range(0, num_timesteps, i))
        raise ValueError(spec)
    n = int(spec)
    stride = (num_timesteps - 1) / (n - 1) if n > 1 else 1
    cur, taken = 0.0, []
    for _ in range(n):
        taken.append(round(cur))
        cur += stride
    assert taken == [round(i * stride) for i in range(n)]  # the spec's round(i·stride) form
    return sorted(set(taken))


def linear_betas(num_timesteps=1000):
    return np.linspace(1e-4, 0.02, num_timesteps, dtype=np.float64)


def respaced_betas(base_betas, use_timesteps):
    """betas_k = 1 − ᾱ_k / ᾱ_(previous kept), previous starting at 1 (§2)."""
    acp = np.cumprod(1.0 - base_betas)
    last, new = 1.0, []
    for i in use_timesteps:
        new.append(1.0 - acp[i] / last)
        last = acp[i]
    return np.array(new, dtype=np.float64)


class GaussianDiffusion:
    """ε-prediction, learned-range variance, all arrays float64, gathered then cast to float32."""

    def __init__(self, betas, timestep_map=None):
        b = np.asarray(betas, dtype=np.float64)
        self.num_timesteps = len(b)
        self.timestep_map = list(range(len(b))) if timestep_map is None else list(timestep_map)
        self.betas = b
        self.log_betas = np.log(b)
        ac = np.cumprod(1.0 - b)
        self.alphas_cumprod = ac
        self.alphas_cumprod_prev = np.append(1.0, ac[:-1])
        self.sqrt_alphas_cumprod = np.sqrt(ac)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - ac)
        self.sqrt_recip_alphas_cumprod = np.sqrt(1.0 / ac)
        self.sqrt_recipm1_alphas_cumprod = np.sqrt(1.0 / ac - 1)
        self.posterior_variance = b * (1.0 - self.alphas_cumprod_prev) / (1.0 - ac)
        # "clipped": element 0 replaced by element 1
        self.posterior_log_variance_clipped = np.log(
            np.append(self.posterior_variance[1], self.posterior_variance[1:]))
        self.posterior_mean_coef1 = b * np.sqrt(self.alphas_cumprod_prev) / (1.0 - ac)
        self.posterior_mean_coef2 = (1.0 - self.alphas_cumprod_prev) * np.sqrt(1.0 - b) / (1.0 - ac)

    @staticmethod
    def _ex(arr, t, ndim):
        """gather per sample in float64, cast to float32, broadcastable to (N, ...)."""
        v = torch.from_numpy(arr)[t].float()
        return v.reshape(v.shape + (1,) * (ndim - 1))

    def q_sample(self, x0, t, noise):
        return self._ex(self.sqrt_alphas_cumprod, t, x0.ndim) * x0 + \
            self._ex(self.sqrt_one_minus_alphas_cumprod, t, x0.ndim) * noise

    def q_posterior(self, x0, x_t, t):
        mean = self._ex(self.posterior_mean_coef1, t, x_t.ndim) * x0 + \
            self._ex(self.posterior_mean_coef2, t, x_t.ndim) * x_t
        return mean, self._ex(self.posterior_log_variance_clipped, t, x_t.ndim)

    def p_mean_variance(self, model_output, x_t, t):
        """model_output (N, 2C, ...): ε̂ then v. Learned range: frac=(v+1)/2,
        log σ² = frac·log β + (1-frac)·posterior_log_var_clipped. x̂0 not clipped (§2)."""
        c = x_t.shape[1]
        eps, v = model_output[:, :c], model_output[:, c:]
        min_log = self._ex(self.posterior_log_variance_clipped, t, x_t.ndim)
        max_log = self._ex(self.log_betas, t, x_t.ndim)
        frac = (v + 1) / 2
        log_var = frac * max_log + (1 - frac) * min_log
        pred_x0 = self._ex(self.sqrt_recip_alphas_cumprod, t, x_t.ndim) * x_t - \
            self._ex(self.sqrt_recipm1_alphas_cumprod, t, x_t.ndim) * eps
        mean, _ = self.q_posterior(pred_x0, x_t, t)
        return {"mean": mean, "log_variance": log_var, "pred_xstart": pred_x0, "eps": eps}

    def p_sample(self, model_output, x_t, t, noise):
        out = self.p_mean_variance(model_output, x_t, t)
        nonzero = (t != 0).float().reshape(-1, *([1] * (x_t.ndim - 1)))
        return out["mean"] + nonzero * torch.exp(0.5 * out["log_variance"]) * noise

    def ddim_sample(self, model_output, x_t, t, noise, eta=0.0):
        out = self.p_mean_variance(model_output, x_t, t)
        nd = x_t.ndim
        # re-derive ε from x̂0
        eps = (self._ex(self.sqrt_recip_alphas_cumprod, t, nd) * x_t - out["pred_xstart"]) / \
            self._ex(self.sqrt_recipm1_alphas_cumprod, t, nd)
        ab = self._ex(self.alphas_cumprod, t, nd)
        ab_prev = self._ex(self.alphas_cumprod_prev, t, nd)
        sigma = eta * torch.sqrt((1 - ab_prev) / (1 - ab)) * torch.sqrt(1 - ab / ab_prev)
        mean_pred = out["pred_xstart"] * torch.sqrt(ab_prev) + torch.sqrt(1 - ab_prev - sigma ** 2) * eps
        nonzero = (t != 0).float().reshape(-1, *([1] * (nd - 1)))
        return mean_pred + nonzero * sigma * noise

    def training_losses(self, model_fn, x0, t, noise):
        """hybrid loss: mse(ε, ε̂) + vb (ε̂ detached), per sample (§2)."""
        x_t = self.q_sample(x0, t, noise)
        model_output = model_fn(x_t, t)
        c = x0.shape[1]
        eps = model_output[:, :c]
        frozen = torch.cat([eps.detach(), model_output[:, c:]], dim=1)
        vb = self.vb_terms_bpd(frozen, x0, x_t, t)
        mse = ((noise - eps) ** 2).mean(dim=list(range(1, x0.ndim)))
        return {"x_t": x_t, "mse": mse, "vb": vb, "loss": mse + vb}

    def vb_terms_bpd(self, model_output, x0, x_t, t):
        true_mean, true_logvar = self.q_posterior(x0, x_t, t)
        out = self.p_mean_variance(model_output, x_t, t)
        dims = list(range(1, x0.ndim))
        kl = normal_kl(true_mean, true_logvar, out["mean"], out["log_variance"]).mean(dim=dims) / math.log(2.0)
        nll = -discretized_gaussian_log_likelihood(
            x0, out["mean"], 0.5 * out["log_variance"]).mean(dim=dims) / math.log(2.0)
        return torch.where(t == 0, nll, kl)


def normal_kl(mean1, logvar1, mean2, logvar2):
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2)
                  + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


def approx_standard_normal_cdf(x):
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


def discretized_gaussian_log_likelihood(x, means, log_scales):
    """log-likelihood of x in [-1,1] under bins of width 2/255; edge bins open at x<-0.999 / x>0.999."""
    centered = x - means
    inv_stdv = torch.exp(-log_scales)
    cdf_plus = approx_standard_normal_cdf(inv_stdv * (centered + 1.0 / 255.0))
    cdf_min = approx_standard_normal_cdf(inv_stdv * (centered - 1.0 / 255.0))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_one_minus_cdf_min = torch.log((1.0 - cdf_min).clamp(min=1e-12))
    log_cdf_delta = torch.log((cdf_plus - cdf_min).clamp(min=1e-12))
    return torch.where(x < -0.999, log_cdf_plus,
                       torch.where(x > 0.999, log_one_minus_cdf_min, log_cdf_delta))


def make_spaced(spec, num_timesteps=1000):
    keep = space_timesteps(num_timesteps, spec)
    return GaussianDiffusion(respaced_betas(linear_betas(num_timesteps), keep), timestep_map=keep)


def sample_loop(diffusion, model_fn, x_T, noises, ddim=False, eta=0.0):
    """From the highest respaced index down to 0; step k (k = 0 first, highest t) uses noises[k].
    model_fn is called with the ORIGINAL timesteps (respaced index mapped through timestep_map)."""
    x = x_T
    tmap = torch.tensor(diffusion.timestep_map, dtype=torch.int64)
    for k, i in enumerate(reversed(range(diffusion.num_timesteps))):
        t = torch.full((x.shape[0],), i, dtype=torch.int64)
        out = model_fn(x, tmap[t])
        if ddim:
            x = diffusion.ddim_sample(out, x, t, noises[k], eta)
        else:
            x = diffusion.p_sample(out, x, t, noises[k])
    return x

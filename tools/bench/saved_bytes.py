"""Bytes autograd saves per sample in the reference DiT (torch.autograd.graph.saved_tensors_hooks), for the model of
tools/bench/xl-width-4-blocks.yaml at batch 8: the count docs/benchmarks.md compares dit-spark's live bytes with.
Run from the repository root: python3 tools/bench/saved_bytes.py"""
import sys, os, torch, collections
sys.path.insert(0, "tools/reference"); sys.path.insert(0, "tools/bench")
import torch_bench as tb
kw = dict(input_size=32, patch_size=2, in_channels=4, hidden_size=1152, depth=4, num_heads=16, mlp_ratio=4.0,
          class_dropout_prob=0.1, num_classes=1000, learn_sigma=True)
model = tb.build(kw) if hasattr(tb, "build") else None
B = 8
x = torch.randn(B, 4, 32, 32); t = torch.randint(0, 1000, (B,)); y = torch.randint(0, 1000, (B,))
seen = {}
def pack(tensor):
    st = tensor.untyped_storage()
    key = st.data_ptr()
    seen[key] = max(seen.get(key, 0), st.nbytes())
    return tensor
with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
    out = model(x, t, y)
params = {p.untyped_storage().data_ptr() for p in model.parameters()}
tot = sum(v for k, v in seen.items() if k not in params)
print("saved non-param bytes per sample: %.1f MB, per block per sample %.2f MB" % (tot / B / 1e6, tot / B / 4 / 1e6))
sizes = collections.Counter(v // B for k, v in seen.items() if k not in params)
for s, c in sorted(sizes.items(), key=lambda kv: -kv[0] * kv[1]): print(s / 1e6, "MB/sample x", c)

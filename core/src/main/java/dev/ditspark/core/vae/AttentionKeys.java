package dev.ditspark.core.vae;

/**
 * The two spellings of the mid-block attention's projections in diffusers checkpoints: current files use
 * {@code to_q, to_k, to_v, to_out.0}; files written before diffusers 0.14 (e.g. the original
 * {@code stabilityai/sd-vae-ft-mse} upload) use {@code query, key, value, proj_attn}. Same tensors, same shapes.
 */
public enum AttentionKeys {
    CURRENT("to_q", "to_k", "to_v", "to_out.0"),
    LEGACY("query", "key", "value", "proj_attn");

    final String query;
    final String key;
    final String value;
    final String out;

    AttentionKeys(String query, String key, String value, String out) {
        this.query = query;
        this.key = key;
        this.value = value;
        this.out = out;
    }
}

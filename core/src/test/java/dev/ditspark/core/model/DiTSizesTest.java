package dev.ditspark.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.nn.Parameter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Shapes only: no tensors are allocated, so XL/2 at 512 px costs nothing. */
class DiTSizesTest {

    /** docs/model.md, "Sizes": parameter counts at 256 px, 1000 classes, learn_sigma, including pos_embed. */
    @ParameterizedTest
    @CsvSource({
        "DiT-S/2, 32963360", "DiT-S/4, 32945024", "DiT-S/8, 33148160",
        "DiT-B/2, 130512416", "DiT-B/4, 130475648", "DiT-B/8, 130881536",
        "DiT-L/2, 458102816", "DiT-L/4, 458053760", "DiT-L/8, 458594816",
        "DiT-XL/2, 675129632", "DiT-XL/4, 675074432", "DiT-XL/8, 675683072"})
    void publishedConfigsHaveTheSpecParameterCounts(String name, long expected) {
        assertEquals(expected, new DiT(DiTConfig.named(name, 256)).parameterCount());
    }

    /** The paper's forward "Gflops" (10^9 multiply-accumulates at batch 1), within 0.5%. */
    @ParameterizedTest
    @CsvSource({
        "DiT-S/2, 256, 6.06", "DiT-S/4, 256, 1.41", "DiT-S/8, 256, 0.36",
        "DiT-B/2, 256, 23.01", "DiT-B/4, 256, 5.56", "DiT-B/8, 256, 1.42",
        "DiT-L/2, 256, 80.71", "DiT-L/4, 256, 19.70", "DiT-L/8, 256, 5.01",
        "DiT-XL/2, 256, 118.64", "DiT-XL/4, 256, 29.05", "DiT-XL/8, 256, 7.39",
        "DiT-XL/2, 512, 524.6"})
    void forwardMacsMatchThePaper(String name, int imageSize, double paperGmacs) {
        double gmacs = new DiT(DiTConfig.named(name, imageSize)).forwardMacs() / 1e9;
        // The paper rounds to 2 decimals: 0.36 could be 0.355, so allow the rounding on top of 0.5%.
        assertEquals(paperGmacs, gmacs, paperGmacs * 0.005 + 0.005, name + " @" + imageSize);
    }

    /** Paper Table: adaLN-Zero 118.6 Gflops, in-context 119.4, cross-attention 137.6 (XL/2). */
    @ParameterizedTest
    @CsvSource({"adaln-zero, 118.6", "in-context, 119.4", "cross-attn, 137.6"})
    void conditioningVariantsCostWhatThePaperSays(String conditioning, double paperGmacs) {
        DiTConfig cfg = DiTConfig.named("DiT-XL/2", 256).withConditioning(Conditioning.fromId(conditioning));
        double gmacs = new DiT(cfg).forwardMacs() / 1e9;
        assertEquals(paperGmacs, gmacs, paperGmacs * 0.005, conditioning);
    }

    @Test
    void stateDictNamesAreTheReferenceKeys() {
        Map<String, Parameter> p = new DiT(DiTConfig.named("DiT-S/2", 256)).namedParameters();
        for (String key : new String[] {
            "x_embedder.proj.weight", "x_embedder.proj.bias", "pos_embed",
            "t_embedder.mlp.0.weight", "t_embedder.mlp.2.bias", "y_embedder.embedding_table.weight",
            "blocks.0.attn.qkv.weight", "blocks.11.attn.proj.bias", "blocks.5.mlp.fc1.weight",
            "blocks.5.mlp.fc2.bias", "blocks.3.adaLN_modulation.1.weight",
            "final_layer.adaLN_modulation.1.bias", "final_layer.linear.weight"}) {
            assertTrue(p.containsKey(key), key);
        }
        // 4 tensors per Linear; no LayerNorm keys; pos_embed is fixed.
        assertEquals(2 + 1 + 4 + 1 + 12 * 10 + 4, p.size());
        assertTrue(p.keySet().stream().noneMatch(k -> k.contains("norm")));
        assertTrue(!p.get("pos_embed").trainable());
        assertEquals(1001 * 384, p.get("y_embedder.embedding_table.weight").size());
    }

    @Test
    void badConfigsNameTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiTConfig.named("DiT-M/2", 256));
        assertTrue(e.getMessage().startsWith("name: unknown model 'DiT-M/2', expected one of DiT-S/2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DiTConfig.named("DiT-XL/2", 260));
        assertTrue(e.getMessage().startsWith("image_size:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new DiTConfig(30, 4, 4, 384, 12, 6, 4, 0.1, 1000, true, Conditioning.ADALN_ZERO));
        assertTrue(e.getMessage().startsWith("input_size:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new DiTConfig(32, 2, 4, 384, 12, 5, 4, 0.1, 1000, true, Conditioning.ADALN_ZERO));
        assertTrue(e.getMessage().startsWith("num_heads:"), e.getMessage());
    }
}

package dev.ditspark.dataprep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ditspark.core.data.LatentDType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** --dtype of dit prepare and of PrepareJob's spark-submit arguments: one parser, every common spelling. */
class PrepareOptionsTest {

    @Test
    void dtypeTakesEverySpellingOfFloat16AndFloat32() {
        for (String s : List.of("float16", "f16", "fp16", "F16", "half")) {
            assertEquals(LatentDType.FLOAT16, PrepareOptions.dtype(s), s);
        }
        for (String s : List.of("float32", "f32", "fp32", "F32")) {
            assertEquals(LatentDType.FLOAT32, PrepareOptions.dtype(s), s);
        }
        assertEquals(LatentDType.FLOAT32, PrepareOptions.dtype(null), "the default");
        PrepareOptions o = PrepareOptions.fromArgs(new String[] {"--input", "in", "--output", "out", "--vae", "v",
                "--dtype", "f16"});
        assertEquals(LatentDType.FLOAT16, o.dtype());
    }

    @Test
    void aTypeLatentsCannotBeStoredInIsOneLine() {
        assertEquals("--dtype: float16 or float32, got bf16",
                assertThrows(IllegalArgumentException.class, () -> PrepareOptions.dtype("bf16")).getMessage());
        assertEquals("--dtype: float32, float16 or bfloat16 (or f32/fp32, f16/fp16, bf16), got int8",
                assertThrows(IllegalArgumentException.class, () -> PrepareOptions.dtype("int8")).getMessage());
    }
}

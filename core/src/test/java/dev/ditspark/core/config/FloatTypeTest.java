package dev.ditspark.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** One spelling for dtypes on every command and config field, the others accepted (issue 14 item 7). */
class FloatTypeTest {

    @Test
    void everyCommonSpellingMeansItsType() {
        for (String s : List.of("float32", "f32", "fp32", "float", "F32", "Float32", " fp32 ")) {
            assertEquals(FloatType.FLOAT32, FloatType.parse(s, "--dtype"), s);
        }
        for (String s : List.of("float16", "f16", "fp16", "half", "F16", "FP16")) {
            assertEquals(FloatType.FLOAT16, FloatType.parse(s, "--dtype"), s);
        }
        for (String s : List.of("bfloat16", "bf16", "BF16")) {
            assertEquals(FloatType.BFLOAT16, FloatType.parse(s, "--dtype"), s);
        }
        assertEquals(List.of("float32", "float16", "bfloat16"),
                List.of(FloatType.FLOAT32.id(), FloatType.FLOAT16.id(), FloatType.BFLOAT16.id()));
    }

    @Test
    void anUnknownOrDisallowedTypeIsOneLineNamingTheField() {
        assertEquals("--dtype: float32, float16 or bfloat16 (or f32/fp32, f16/fp16, bf16), got int8",
                assertThrows(IllegalArgumentException.class, () -> FloatType.parse("int8", "--dtype")).getMessage());
        assertEquals("--dtype: float32, float16 or bfloat16 (or f32/fp32, f16/fp16, bf16), got null",
                assertThrows(IllegalArgumentException.class, () -> FloatType.parse(null, "--dtype")).getMessage());
        assertEquals("--dtype: float16 or float32, got bf16", assertThrows(IllegalArgumentException.class,
                () -> FloatType.parse("bf16", "--dtype", FloatType.FLOAT16, FloatType.FLOAT32)).getMessage());
        assertEquals(FloatType.FLOAT16, FloatType.parse("f16", "--dtype", FloatType.FLOAT16, FloatType.FLOAT32));
    }
}

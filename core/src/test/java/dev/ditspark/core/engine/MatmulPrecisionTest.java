package dev.ditspark.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * train.precision reaches libtorch's global context: the flags are read back through libtorch's own getters
 * (allowTF32CuBLAS, allowTF32CuDNN), in the same libtorch_cpu the CUDA build uses for them. Whether cuBLAS then
 * picks TF32 kernels needs a GPU (tools/gpu-check.sh times both settings).
 */
class MatmulPrecisionTest {

    @AfterEach
    void restoreLibtorchDefault() {
        MatmulPrecision.setTf32(false); // libtorch's default matmul precision is "highest"
    }

    @Test
    void tf32IsSetAndClearedInLibtorch() {
        MatmulPrecision.apply("tf32");
        assertTrue(MatmulPrecision.tf32Matmul());
        assertTrue(MatmulPrecision.tf32Convolution());
        MatmulPrecision.apply("fp32");
        assertFalse(MatmulPrecision.tf32Matmul());
        assertFalse(MatmulPrecision.tf32Convolution());
        MatmulPrecision.setTf32(true);
        assertTrue(MatmulPrecision.tf32Matmul());
    }

    @Test
    void cpuMatmulsAreUnchangedByTf32() {
        try (NDManager m = TorchEngine.newManager()) {
            SplittableRandom rng = new SplittableRandom(7);
            float[] a = new float[64 * 96];
            float[] b = new float[96 * 80];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) rng.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) rng.nextGaussian();
            }
            NDArray x = m.create(a, new Shape(64, 96));
            NDArray w = m.create(b, new Shape(96, 80));
            MatmulPrecision.apply("fp32");
            float[] fp32 = x.matMul(w).toFloatArray();
            MatmulPrecision.apply("tf32");
            float[] tf32 = x.matMul(w).toFloatArray();
            assertArrayEquals(fp32, tf32, 0f);
        }
    }

    @Test
    void anotherValueNamesTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MatmulPrecision.apply("bf16"));
        assertEquals("train.precision: fp32 or tf32, got bf16", e.getMessage());
    }
}

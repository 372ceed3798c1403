package dev.ditspark.core.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SymmetricEigenTest {

    @Test
    void twoByTwoHasTheKnownEigenpairs() {
        SymmetricEigen e = SymmetricEigen.of(new double[][] {{2, 1}, {1, 2}});
        assertArrayEquals(new double[] {1, 3}, e.values(), 1e-14);
        // (1, -1)/√2 for 1 and (1, 1)/√2 for 3, up to sign.
        assertEquals(0, e.vectors()[0][0] + e.vectors()[1][0], 1e-14);
        assertEquals(0, e.vectors()[0][1] - e.vectors()[1][1], 1e-14);
        assertEquals(Math.sqrt(0.5), Math.abs(e.vectors()[0][1]), 1e-14);
    }

    @Test
    void randomSymmetricMatrixIsReconstructedByOrthonormalVectors() {
        int n = 40;
        SplittableRandom rng = new SplittableRandom(7);
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                a[i][j] = rng.nextDouble(-1, 1);
                a[j][i] = a[i][j];
            }
        }
        SymmetricEigen e = SymmetricEigen.of(a);
        double[][] v = e.vectors();
        double trace = 0;
        double valueSum = 0;
        for (int i = 0; i < n; i++) {
            trace += a[i][i];
            valueSum += e.values()[i];
            if (i > 0) {
                assertEquals(true, e.values()[i] >= e.values()[i - 1], "ascending at " + i);
            }
            for (int k = 0; k < n; k++) {
                double vtv = 0;
                double vlv = 0;
                for (int j = 0; j < n; j++) {
                    vtv += v[j][i] * v[j][k];
                    vlv += v[i][j] * e.values()[j] * v[k][j];
                }
                assertEquals(i == k ? 1 : 0, vtv, 1e-12, "VᵀV at " + i + "," + k);
                assertEquals(a[i][k], vlv, 1e-12, "VΛVᵀ at " + i + "," + k);
            }
        }
        assertEquals(trace, valueSum, 1e-12);
    }

    @Test
    void sqrtOfPsdSquaresBack() {
        double[][] a = {{4, 2, 0}, {2, 5, 1}, {0, 1, 3}};
        double[][] r = SymmetricEigen.of(a).sqrtPsd();
        for (int i = 0; i < 3; i++) {
            for (int k = 0; k < 3; k++) {
                double s = 0;
                for (int j = 0; j < 3; j++) {
                    s += r[i][j] * r[j][k];
                }
                assertEquals(a[i][k], s, 1e-12);
                assertEquals(r[i][k], r[k][i], 1e-12);
            }
        }
    }

    @Test
    void refusesANonSymmetricMatrix() {
        var e = assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[][] {{1, 2}, {0, 1}}));
        assertEquals("matrix is not symmetric at (1, 0): 0.0 vs 2.0", e.getMessage());
    }
}

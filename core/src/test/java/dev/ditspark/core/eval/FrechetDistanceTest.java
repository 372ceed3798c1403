package dev.ditspark.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.eval.FrechetDistance.Gaussian;
import dev.ditspark.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {

    @Test
    void diagonalGaussiansHaveTheClosedForm() {
        // FD = |μ1 − μ2|² + Σ (√a − √b)² for diagonal covariances a, b.
        double[] a = {1, 4, 9, 0.25};
        double[] b = {4, 1, 9, 1};
        double[] mu1 = {0, 1, 2, 3};
        double[] mu2 = {1, 1, 0, 3};
        double expected = 1 + 0 + 4 + 0 + (1 - 2) * (1 - 2) + (2 - 1) * (2 - 1) + 0 + (0.5 - 1) * (0.5 - 1);
        assertEquals(expected, FrechetDistance.between(mu1, diag(a), mu2, diag(b)), 1e-12);
    }

    @Test
    void nonCommutingTwoByTwoMatchesTheTraceDeterminantFormula() {
        // For 2×2: tr((Σ1Σ2)^½) = √(tr(Σ1Σ2) + 2√(det Σ1 · det Σ2)).
        double[][] s1 = {{2, 0.7}, {0.7, 1}};
        double[][] s2 = {{1, -0.4}, {-0.4, 3}};
        double trProduct = s1[0][0] * s2[0][0] + s1[0][1] * s2[1][0] + s1[1][0] * s2[0][1] + s1[1][1] * s2[1][1];
        double det1 = s1[0][0] * s1[1][1] - s1[0][1] * s1[1][0];
        double det2 = s2[0][0] * s2[1][1] - s2[0][1] * s2[1][0];
        double traceRoot = Math.sqrt(trProduct + 2 * Math.sqrt(det1 * det2));
        double expected = 0.5 * 0.5 + 3 + 4 - 2 * traceRoot;
        assertEquals(expected, FrechetDistance.between(new double[] {0.5, 0}, s1, new double[] {0, 0}, s2), 1e-12);
    }

    @Test
    void identicalGaussiansAreAtDistanceZero() {
        double[][] s = {{2, 0.7, 0.1}, {0.7, 1, 0.2}, {0.1, 0.2, 0.5}};
        double[] mu = {1, 2, 3};
        assertEquals(0, FrechetDistance.between(mu, s, mu, s), 1e-12);
    }

    @Test
    void fitAndDistanceMatchNumpyAndScipy() throws Exception {
        JsonNode f = new ObjectMapper().readTree(Fixtures.path("frechet_distance.json").toFile());
        int dim = f.get("dim").asInt();
        Gaussian a = Gaussian.fit(floats(f.get("a")), f.get("a_count").asInt(), dim);
        Gaussian b = Gaussian.fit(floats(f.get("b")), f.get("b_count").asInt(), dim);
        assertClose(f.get("a_mean"), a.mean(), 1e-12);
        assertClose(f.get("b_mean"), b.mean(), 1e-12);
        for (int i = 0; i < dim; i++) {
            for (int j = 0; j < dim; j++) {
                assertEquals(f.get("a_cov").get(i * dim + j).asDouble(), a.covariance()[i][j], 1e-9, "a_cov " + i + "," + j);
                assertEquals(f.get("b_cov").get(i * dim + j).asDouble(), b.covariance()[i][j], 1e-9, "b_cov " + i + "," + j);
            }
        }
        double expected = f.get("fd").asDouble();
        assertEquals(expected, FrechetDistance.between(a, b), 1e-9 * expected);
        assertEquals(expected, FrechetDistance.between(b, a), 1e-9 * expected); // symmetric
    }

    private static double[][] diag(double[] d) {
        double[][] m = new double[d.length][d.length];
        for (int i = 0; i < d.length; i++) {
            m[i][i] = d[i];
        }
        return m;
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }

    private static void assertClose(JsonNode expected, double[] actual, double tol) {
        assertEquals(expected.size(), actual.length);
        for (int i = 0; i < actual.length; i++) {
            assertEquals(expected.get(i).asDouble(), actual[i], tol, "element " + i);
        }
    }
}

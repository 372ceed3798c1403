package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.core.sample.SampleImages;
import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link DistributedEvaluation} on a real local Spark: ranges of whole batches, and a task's failure as one line. */
class DistributedEvaluationTest {

    @Test
    void rangesAreWholeBatchesCoveringEveryImage() {
        for (int images : new int[] {1, 7, 64, 65, 50_000}) {
            for (int batch : new int[] {1, 2, 64}) {
                for (int tasks : new int[] {1, 2, 3, 8}) {
                    assertEquals(0, EvaluationTask.first(0, images, batch, tasks));
                    assertEquals(images, EvaluationTask.first(tasks, images, batch, tasks));
                    for (int t = 1; t < tasks; t++) {
                        int f = EvaluationTask.first(t, images, batch, tasks);
                        assertTrue(f >= EvaluationTask.first(t - 1, images, batch, tasks));
                        assertTrue(f % batch == 0 || f == images, images + "/" + batch + "/" + tasks + ": " + f);
                    }
                }
            }
        }
    }

    @Test
    void missingInceptionWeightsInTheTasksEndTheJobAsOneLine(@TempDir Path dir) throws Exception {
        Path samples = dir.resolve("samples.npz");
        SampleImages.fromPixels(new float[4 * 3 * 8 * 8], 4, 3, 8, 8).writeNpz(samples);
        Path weights = dir.resolve("missing-inception.safetensors");
        SparkConf conf = new SparkConf(false).setMaster("local[2,4]").setAppName("eval-test").set("spark.ui.enabled", "false");
        try (JavaSparkContext jsc = new JavaSparkContext(conf)) {
            DitUserError e = assertThrows(DitUserError.class, () -> DistributedEvaluation.features(jsc, samples,
                    weights.toString(), 2, 2, line -> { }));
            assertTrue(e.getMessage().contains("missing-inception.safetensors"), e.getMessage());
            assertTrue(e.getMessage().startsWith("evaluation task "), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }
}

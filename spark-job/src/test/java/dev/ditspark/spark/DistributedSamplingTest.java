package dev.ditspark.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.sample.SampleChunks;
import dev.ditspark.core.sample.SampleImages;
import dev.ditspark.core.sample.SampleLabels;
import dev.ditspark.core.sample.SampleModel;
import dev.ditspark.core.sample.SampleOutput;
import dev.ditspark.core.sample.SamplePlan;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 item 1: {@code dit sample} sharded over Spark tasks (a real local Spark) writes the same bytes for 2
 * workers as for 1 and as one JVM without Spark; a rerun samples only the missing chunks, a retried task skips the
 * chunks it finished; chunks and output on HDFS; progress with samples/s; a deterministic failure is one line.
 */
class DistributedSamplingTest {
    @TempDir
    static Path dir;
    static Path weights;
    static JavaSparkContext spark;
    /** 8×8 RGB pixels in 4×4 patches, width 32, one block, 4 classes (a null class for guidance). */
    static final DiTConfig TINY = new DiTConfig(8, 4, 3, 32, 1, 2, 4.0, 0.1, 4, true, Conditioning.ADALN_ZERO);

    @BeforeAll
    static void start() throws Exception {
        weights = dir.resolve("tiny.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            DiT dit = new DiT(TINY);
            dit.initialize(m, new Random(5));
            StateDict.write(dit, weights, TensorDType.F32, Map.of());
        }
        // Up to 2 attempts per task (a retried task must skip the chunks it finished); progress counted every 0.2 s.
        spark = new JavaSparkContext(TinyRun.localSpark("local[2,2]").set(DistributedSampling.PROGRESS_EVERY, "200"));
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.close();
        }
    }

    /** 10 samples with uniform labels, chunks of 3 (the last holds 1), 5 DDPM steps at cfg 1.5. */
    static SamplePlan plan(String out, String weightsFile) {
        SampleLabels labels = SampleLabels.uniform(10, 4, 11);
        return new SamplePlan(null, 0, false, weightsFile, false, SamplePlan.Shape.of(TINY), null, false, "5", "ddpm",
                1.5, false, 0.0, 11, labels, 3, out, "{\"test\": \"tiny\"}", SampleOutput.Grid.first(8, 4));
    }

    /** The plan sampled in this JVM without Spark: one worker, chunk after chunk. */
    static void sampleHere(SamplePlan plan, int[] ks) throws Exception {
        try (NDManager m = TorchEngine.newManager()) {
            SampleModel model = SampleModel.load(plan, m, new Configuration(), UnaryOperator.identity());
            SampleChunks chunks = SampleChunks.open(plan.chunksLocation(), new Configuration(), plan.request(), l -> { });
            model.sampleMissing(chunks, ks, new SampleModel.ChunkProgress() { });
        }
    }

    /** The task holding chunk {@code chunk} fails right after writing it, on its first attempt (a worker dying). */
    record FailAfterChunk(int chunk) implements SamplingListeners {
        private static final long serialVersionUID = 1L;

        @Override
        public SampleModel.ChunkProgress forTask(Task task) {
            if (task.attempt() != 0) {
                return NONE.forTask(task);
            }
            return new SampleModel.ChunkProgress() {
                @Override
                public void onChunk(int k, int n) {
                    if (k == chunk) {
                        throw new IllegalStateException("sampling task " + task.partition()
                                + ": injected failure after chunk " + k);
                    }
                }
            };
        }
    }

    static byte[] bytes(Path p) throws Exception {
        return Files.readAllBytes(p);
    }

    @Test
    void twoWorkersWriteTheSameBytesAsOneAndAsOneJvmWithoutSpark() throws Exception {
        Path here = dir.resolve("here");
        SamplePlan p0 = plan(here.toString(), weights.toString());
        sampleHere(p0, new int[] {0, 1, 2, 3});
        SampleOutput.assemble(p0, new Configuration());

        Path one = dir.resolve("one");
        List<String> log1 = Collections.synchronizedList(new ArrayList<>());
        DistributedSampling.Result r1 = DistributedSampling.run(spark, plan(one.toString(), weights.toString()), 1, log1::add);
        assertEquals(4, r1.sampled());
        assertEquals(1, r1.tasks().size(), r1.tasks().toString());

        Path two = dir.resolve("two");
        List<String> log2 = Collections.synchronizedList(new ArrayList<>());
        DistributedSampling.Result r2 = DistributedSampling.run(spark, plan(two.toString(), weights.toString()), 2, log2::add);
        assertEquals(List.of("task 0: 2 of 2 chunks sampled on cpu()", "task 1: 2 of 2 chunks sampled on cpu()"),
                r2.tasks());
        System.out.println("2 workers: " + log2);

        byte[] expected = bytes(here.resolve("samples.npz"));
        assertArrayEquals(expected, bytes(one.resolve("samples.npz")), "1 worker on Spark = no Spark");
        assertArrayEquals(expected, bytes(two.resolve("samples.npz")), "2 workers = 1 worker, bitwise");
        assertArrayEquals(bytes(here.resolve("grid.png")), bytes(two.resolve("grid.png")));
        SampleImages s = SampleImages.readNpz(two.resolve("samples.npz"));
        assertEquals(10, s.count());
        assertArrayEquals(SampleLabels.uniform(10, 4, 11).toArray(), s.labels().orElseThrow());
        assertFalse(Files.exists(two.resolve("chunks")), "chunks removed once samples.npz is written");
        // The driver's progress: exact counts from the chunk files, a rate, and the end.
        assertTrue(log2.get(log2.size() - 1).startsWith("sample: 100% (10/10 samples), "), log2.toString());
        assertTrue(log2.stream().allMatch(l -> l.matches("sample: \\d+% \\(\\d+/10 samples\\), \\d+\\.\\d\\d samples/s"
                + "(, about .* left)?")), log2.toString());
    }

    @Test
    void aRerunSamplesOnlyTheMissingChunksAndARetriedTaskSkipsWhatItFinished() throws Exception {
        Path ref = dir.resolve("ref");
        SamplePlan p0 = plan(ref.toString(), weights.toString());
        sampleHere(p0, new int[] {0, 1, 2, 3});
        SampleOutput.assemble(p0, new Configuration());

        // A killed earlier run left chunks 1 and 3.
        Path cut = dir.resolve("cut");
        SamplePlan p = plan(cut.toString(), weights.toString());
        sampleHere(p, new int[] {1, 3});
        // The task holding chunk 0 (with chunk 2) fails once right after writing it; Spark's retry samples chunk 2 only.
        DistributedSampling.Result r = DistributedSampling.run(spark, p, 2, l -> { }, new FailAfterChunk(0));
        assertEquals(2, r.resumed());
        assertEquals(2, r.sampled());
        assertEquals(List.of("task 0: 0 of 1 chunks sampled on cpu()", "task 1: 1 of 1 chunks sampled on cpu()"),
                r.tasks(), "task 0's retry found its chunk written by the failed attempt");
        assertArrayEquals(bytes(ref.resolve("samples.npz")), bytes(cut.resolve("samples.npz")));
    }

    @Test
    void chunksAndOutputOnHdfs() throws Exception {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.resolve("hdfs").toString());
        MiniDFSCluster hdfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        try {
            hdfs.waitActive();
            String root = "hdfs://127.0.0.1:" + hdfs.getNameNodePort();
            Path local = dir.resolve("local-ref");
            SamplePlan p0 = plan(local.toString(), weights.toString());
            sampleHere(p0, new int[] {0, 1, 2, 3});
            SampleOutput.assemble(p0, new Configuration());

            DistributedSampling.run(spark, plan(root + "/samples", weights.toString()), 2, l -> { });
            FileSystem fs = FileSystem.get(java.net.URI.create(root), hdfs.getConfiguration(0));
            try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(root + "/samples/samples.npz"))) {
                assertArrayEquals(bytes(local.resolve("samples.npz")), in.readAllBytes());
            }
            assertTrue(fs.exists(new org.apache.hadoop.fs.Path(root + "/samples/grid.png")));
            assertFalse(fs.exists(new org.apache.hadoop.fs.Path(root + "/samples/chunks")));
        } finally {
            hdfs.shutdown();
        }
    }

    @Test
    void thePlanTravelsToSampleJobAsJsonUnchanged() throws Exception {
        SamplePlan p = plan("hdfs://nn/samples", "w.safetensors").withFiles("w.safetensors", true, "vae.safetensors", true);
        String json = SampleJob.toJson(p);
        SamplePlan back = SampleJob.fromJson(json);
        assertEquals(json, SampleJob.toJson(back));
        assertEquals(TINY, back.model().config());
        assertArrayEquals(p.labels().toArray(), back.labels().toArray());
        assertArrayEquals(p.grid().indices(), back.grid().indices());
        assertTrue(back.weightsShipped() && back.vaeShipped());
        assertTrue(json.length() < 2000, "a 50,000-sample request fits a command line: labels travel as a rule");
    }

    @Test
    void weightsOfAnotherModelEndTheJobAtOnceInOneLine() throws Exception {
        Path other = dir.resolve("other.safetensors");
        try (NDManager m = TorchEngine.newManager()) {
            DiT dit = new DiT(new DiTConfig(8, 4, 3, 48, 1, 2, 4.0, 0.1, 4, true, Conditioning.ADALN_ZERO));
            dit.initialize(m, new Random(5));
            StateDict.write(dit, other, TensorDType.F32, Map.of());
        }
        DitUserError e = assertThrows(DitUserError.class,
                () -> DistributedSampling.run(spark, plan(dir.resolve("bad").toString(), other.toString()), 2, l -> { }));
        assertTrue(e.getMessage().matches("sampling task \\d: .*" + java.util.regex.Pattern.quote(other.toString()) + ".*"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("bad/samples.npz")));
    }
}

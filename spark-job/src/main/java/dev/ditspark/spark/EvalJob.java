package dev.ditspark.spark;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.config.ConfigException;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.eval.AdmEvaluation;
import dev.ditspark.core.eval.FidInception;
import dev.ditspark.core.eval.InceptionFeatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The spark-submit entry point of {@code dit eval --ref ... --master URL}:
 * {@code EvalJob --samples NPZ --ref NPZ --inception W --batch-size B --workers N --threads T --result JSON}.
 * The driver computes (or reads from its cache next to {@code --ref}) the reference side, the samples' Inception
 * features come from {@code N} Spark tasks ({@link DistributedEvaluation}), and the five numbers of
 * {@link AdmEvaluation#evaluate} are written as JSON ({@link Result}) to {@code --result}, which the launcher reads.
 *
 * <p>Client deploy mode: the driver runs on the launcher's machine, so {@code --samples}, {@code --ref} and
 * {@code --result} are local paths there; the launcher ships {@code --samples} and {@code --inception} with
 * spark-submit --files and the tasks find them by file name ({@code SparkFiles}) where the given path is absent.
 */
public final class EvalJob {
    private static final String USAGE = "usage: EvalJob --samples NPZ --ref NPZ --inception W --batch-size B "
            + "--workers N --threads T --result JSON";

    /** The five numbers as the result file holds them (float64, as {@link AdmEvaluation.Result}). */
    public record Result(double inceptionScore, double fid, double sfid, double precision, double recall, int samples,
            int references, boolean referenceStatsFromFile) {
        static Result of(AdmEvaluation.Result r) {
            return new Result(r.inceptionScore(), r.fid(), r.sfid(), r.precision(), r.recall(), r.samples(),
                    r.references(), r.referenceStatsFromFile());
        }

        /** Reads a result file EvalJob wrote. */
        public static Result read(Path json) throws IOException {
            return new ObjectMapper().readValue(json.toFile(), Result.class);
        }
    }

    private EvalJob() {
    }

    public static void main(String[] args) throws IOException {
        String samples = null;
        String ref = null;
        String inception = null;
        String result = null;
        int batch = AdmEvaluation.ADM_BATCH;
        int workers = 1;
        int threads = 2;
        for (int i = 0; i < args.length; i++) {
            if (i + 1 >= args.length) {
                throw new ConfigException("argument " + args[i] + " needs a value; " + USAGE);
            }
            switch (args[i]) {
                case "--samples" -> samples = args[++i];
                case "--ref" -> ref = args[++i];
                case "--inception" -> inception = args[++i];
                case "--result" -> result = args[++i];
                case "--batch-size" -> batch = Integer.parseInt(args[++i]);
                case "--workers" -> workers = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> throw new ConfigException("unknown argument '" + args[i] + "'; " + USAGE);
            }
        }
        if (samples == null || ref == null || inception == null || result == null) {
            throw new ConfigException("--samples, --ref, --inception and --result are required; " + USAGE);
        }
        TorchEngine.setThreads(threads);
        SparkConf conf = new SparkConf().setAppName("dit-eval");
        try (JavaSparkContext jsc = new JavaSparkContext(conf);
                NDManager manager = TorchEngine.newManager()) {
            boolean random = inception.startsWith(DistributedEvaluation.RANDOM);
            FidInception net = random
                    ? FidInception.random(Long.parseLong(inception.substring(DistributedEvaluation.RANDOM.length())), manager)
                    : FidInception.load(Path.of(inception), manager);
            AdmEvaluation.Reference reference = AdmEvaluation.reference(Path.of(ref), net, manager, batch, EvalJob::log);
            InceptionFeatures features = DistributedEvaluation.features(jsc, Path.of(samples), inception, batch, workers,
                    EvalJob::log);
            AdmEvaluation.Result r = AdmEvaluation.evaluate(features, reference, manager);
            // Written whole, then moved: the launcher never reads half a file.
            Path out = Path.of(result);
            Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
            new ObjectMapper().writeValue(tmp.toFile(), Result.of(r));
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static synchronized void log(String line) {
        System.out.println("      " + line);
        System.out.flush();
    }
}

package dev.ditspark.core.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.engine.GradientTape;
import dev.ditspark.core.engine.NoGrad;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Init;
import dev.ditspark.core.nn.Linear;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.Parameter;
import dev.ditspark.core.train.AdamW;
import dev.ditspark.core.train.AdamWConfig;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A small CNN the project trains on the Fashion-MNIST training split to score generated samples: the class it
 * sees (accuracy by requested class) and its 64-d penultimate features (the space of the Fréchet distance).
 * conv3×3(1→16) ReLU maxpool2, conv3×3(16→32) ReLU maxpool2, Linear(1568→64) ReLU = features, Linear(64→10).
 * Input: (N, 1, 28, 28) in [-1, 1], the dataset's pixel scale (uint8 q ↦ q/127.5 − 1).
 */
public final class FashionClassifier extends Module {
    public static final int FEATURES = 64;
    public static final int CLASSES = 10;
    private static final int SIDE = FashionMnist.SIZE;
    private static final int EVAL_BATCH = 500;

    /** He-uniform (bound √(6/fan_in)), for layers followed by ReLU. */
    private static final Init HE_UNIFORM = (data, shape, rng) -> {
        long fanIn = data.length / shape[0];
        double bound = Math.sqrt(6.0 / fanIn);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
    };

    /** How the classifier is trained: optimizer steps of {@code batch} images, AdamW at {@code lr}. */
    public record Training(int steps, int batch, double lr, long seed) {
        public Training {
            if (steps <= 0 || batch <= 0 || !(lr > 0)) {
                throw new IllegalArgumentException("classifier training: steps, batch and lr must be positive, got "
                        + steps + ", " + batch + ", " + lr);
            }
        }

        /** Two epochs of the 60,000 training images at batch 128: ~90% test accuracy, about a minute on 2 cores. */
        public static Training standard() {
            return new Training(940, 128, 2e-3, 0);
        }
    }

    /** Class scores and features of a set of images. */
    public record Outputs(int[] predicted, float[] features, int count) {
        /** Fraction of images whose predicted class is {@code labels[i]}. */
        public double accuracy(long[] labels) {
            if (labels.length != count) {
                throw new IllegalArgumentException(labels.length + " labels for " + count + " images");
            }
            int hits = 0;
            for (int i = 0; i < count; i++) {
                hits += predicted[i] == labels[i] ? 1 : 0;
            }
            return hits / (double) count;
        }

        public double accuracy(int[] labels) {
            long[] l = new long[labels.length];
            for (int i = 0; i < l.length; i++) {
                l[i] = labels[i];
            }
            return accuracy(l);
        }

        public FrechetDistance.Gaussian gaussian() {
            return FrechetDistance.Gaussian.fit(features, count, FEATURES);
        }
    }

    private final Conv conv1 = child("conv1", new Conv(1, 16));
    private final Conv conv2 = child("conv2", new Conv(16, 32));
    private final Linear fc = child("fc", new Linear(32L * (SIDE / 4) * (SIDE / 4), FEATURES, HE_UNIFORM));
    private final Linear head = child("head", new Linear(FEATURES, CLASSES));

    /** (N, 1, 28, 28) → (N, 64) penultimate features (after ReLU). */
    public NDArray features(NDArray x) {
        NDArray h = Functional.maxPool(Functional.relu(conv1.forward(x)), 2);
        h = Functional.maxPool(Functional.relu(conv2.forward(h)), 2);
        return Functional.relu(fc.forward(h.reshape(h.getShape().get(0), -1)));
    }

    /** (N, 1, 28, 28) → (N, 10) unnormalised class scores. */
    public NDArray logits(NDArray x) {
        return head.forward(features(x));
    }

    /** Predictions and features of {@code count} row-major 28×28 images in [-1, 1], in batches. */
    public Outputs apply(NDManager manager, float[] images, int count) {
        int plane = SIDE * SIDE;
        if (images.length != count * plane) {
            throw new IllegalArgumentException(images.length + " pixels for " + count + " images of 28x28");
        }
        int[] predicted = new int[count];
        float[] features = new float[count * FEATURES];
        for (int start = 0; start < count; start += EVAL_BATCH) {
            int n = Math.min(EVAL_BATCH, count - start);
            try (NoGrad off = NoGrad.enter(); NDManager scope = manager.newSubManager()) { // inference: no graph
                float[] chunk = new float[n * plane];
                System.arraycopy(images, start * plane, chunk, 0, chunk.length);
                NDArray f = features(scope.create(chunk, new Shape(n, 1, SIDE, SIDE)));
                System.arraycopy(f.toFloatArray(), 0, features, start * FEATURES, n * FEATURES);
                long[] argmax = head.forward(f).argMax(1).toLongArray();
                for (int i = 0; i < n; i++) {
                    predicted[start + i] = (int) argmax[i];
                }
            }
        }
        return new Outputs(predicted, features, count);
    }

    /**
     * Trains a fresh classifier on {@code train} with its values on {@code manager}: shuffled epochs,
     * softmax cross-entropy, AdamW. {@code log} receives a line every 100 steps.
     */
    public static FashionClassifier train(FashionMnist.Images train, Training t, NDManager manager, Consumer<String> log) {
        FashionClassifier model = new FashionClassifier();
        model.initialize(manager, new SplittableRandom(t.seed()));
        int plane = SIDE * SIDE;
        int n = train.count();
        int batch = Math.min(t.batch(), n);
        int[] order = new int[n];
        int cursor = n; // reshuffle on the first step
        SplittableRandom shuffle = new SplittableRandom(t.seed() + 1);
        double lossSum = 0;
        long t0 = System.nanoTime();
        try (AdamW optimizer = new AdamW(model, new AdamWConfig(t.lr(), 0.9, 0.999, 1e-8, 0.0))) {
            for (int step = 1; step <= t.steps(); step++) {
                if (cursor + batch > n) {
                    for (int i = 0; i < n; i++) {
                        order[i] = i;
                    }
                    for (int i = n - 1; i > 0; i--) { // Fisher–Yates
                        int j = shuffle.nextInt(i + 1);
                        int tmp = order[i];
                        order[i] = order[j];
                        order[j] = tmp;
                    }
                    cursor = 0;
                }
                float[] pixels = new float[batch * plane];
                float[] oneHot = new float[batch * CLASSES];
                for (int i = 0; i < batch; i++) {
                    int k = order[cursor++];
                    System.arraycopy(train.pixels(), k * plane, pixels, i * plane, plane);
                    oneHot[i * CLASSES + train.labels()[k]] = 1;
                }
                optimizer.zeroGradients();
                try (NDManager scope = manager.newSubManager()) {
                    NDArray x = scope.create(pixels, new Shape(batch, 1, SIDE, SIDE));
                    NDArray y = scope.create(oneHot, new Shape(batch, CLASSES));
                    try (GradientTape tape = GradientTape.record()) {
                        // Cross-entropy: −mean_i log softmax(logits_i)[y_i], written with tensor ops only.
                        NDArray loss = model.logits(x).logSoftmax(1).mul(y).sum().neg()
                                .div(scope.create((float) batch));
                        tape.backward(loss);
                        lossSum += loss.getFloat();
                    }
                }
                optimizer.step();
                if (step % 100 == 0 || step == t.steps()) {
                    log.accept(String.format(Locale.ROOT, "classifier step %d/%d loss %.4f (%.1f s)", step, t.steps(),
                            lossSum / (step % 100 == 0 ? 100 : step % 100), (System.nanoTime() - t0) / 1e9));
                    lossSum = 0;
                }
            }
        }
        return model;
    }

    /**
     * The classifier cached at {@code file}, or, when it is missing, one trained on Fashion-MNIST's training
     * split from {@code source} and written there (atomically, so an interrupted run trains again).
     */
    /** The cache file name, in {@code runs/classifier/} for dit eval and in the demo's run directory. */
    public static final String CACHE_FILE = "fashion-mnist-cnn.safetensors";

    /**
     * Where {@code dit eval} looks for a cached classifier when none is named, relative to {@code base} (the
     * working directory): its own cache {@code runs/classifier/}, then the demo's ({@code runs/demo/classifier/});
     * the first that exists, else the first (where a newly trained one is written).
     */
    public static Path cachedOrDefault(Path base) {
        List<Path> candidates = List.of(base.resolve("runs/classifier").resolve(CACHE_FILE),
                base.resolve("runs/demo/classifier").resolve(CACHE_FILE));
        return candidates.stream().filter(Files::isRegularFile).findFirst().orElse(candidates.get(0));
    }

    public static FashionClassifier loadOrTrain(Path file, FashionMnist source, Training t, NDManager manager,
            Consumer<String> log) throws IOException {
        FashionClassifier model = new FashionClassifier();
        if (Files.exists(file)) {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                StateDict.load(model, f, manager);
            }
            log.accept("classifier: loaded " + file);
            return model;
        }
        log.accept(String.format(Locale.ROOT, "classifier: training on Fashion-MNIST train (%d steps of %d images)",
                t.steps(), t.batch()));
        model = train(source.readImages(FashionMnist.Split.TRAIN, Integer.MAX_VALUE), t, manager, log);
        Files.createDirectories(file.toAbsolutePath().getParent());
        // StateDict.write renames a complete temporary into place (with the umask's mode, 0644 usually).
        StateDict.write(model, file, TensorDType.F32, Map.of("format", "pt", "model", "fashion-mnist-cnn",
                "steps", Integer.toString(t.steps()), "batch", Integer.toString(t.batch()),
                "lr", Double.toString(t.lr()), "seed", Long.toString(t.seed())));
        log.accept("classifier: saved " + file);
        return model;
    }

    /** A 3×3 convolution with stride 1 and padding 1 (PyTorch's Conv2d keys {@code weight}, {@code bias}). */
    private static final class Conv extends Module {
        private final Parameter weight;
        private final Parameter bias;

        Conv(int in, int out) {
            weight = parameter("weight", HE_UNIFORM, out, in, 3, 3);
            bias = parameter("bias", Init.ZEROS, out);
        }

        NDArray forward(NDArray x) {
            return Functional.conv2d(x, weight.value(), bias.value(), 1, 1);
        }
    }
}

package dev.ditspark.core.eval;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.eval.FashionClassifier.Outputs;
import dev.ditspark.core.eval.FrechetDistance.Gaussian;
import java.io.IOException;

/**
 * The demo's two quality numbers for Fashion-MNIST samples, from a trained {@link FashionClassifier}: the
 * fraction of samples it assigns to the class they were sampled for, and the Fréchet distance between its
 * features of the samples and of the 10,000 test images (an FID in a small, task-specific feature space;
 * lower is better, and it depends on the sample count, so {@link #realDataDistance} gives the floor).
 */
public final class FashionEvaluation {
    private final FashionClassifier classifier;
    private final FashionMnist source;
    private final NDManager manager;
    private final double testAccuracy;
    private final int testCount;
    private final Gaussian test;

    private FashionEvaluation(FashionClassifier classifier, FashionMnist source, NDManager manager, double testAccuracy,
            int testCount, Gaussian test) {
        this.classifier = classifier;
        this.source = source;
        this.manager = manager;
        this.testAccuracy = testAccuracy;
        this.testCount = testCount;
        this.test = test;
    }

    /** Scores the test split once: the classifier's test accuracy and the reference feature statistics. */
    public static FashionEvaluation of(FashionClassifier classifier, FashionMnist source, NDManager manager)
            throws IOException {
        FashionMnist.Images t = source.readImages(FashionMnist.Split.TEST, Integer.MAX_VALUE);
        Outputs out = classifier.apply(manager, t.pixels(), t.count());
        return new FashionEvaluation(classifier, source, manager, out.accuracy(t.labels()), t.count(), out.gaussian());
    }

    /** Accuracy of the classifier on the real test images (how far its verdicts can be trusted). */
    public double testAccuracy() {
        return testAccuracy;
    }

    public int testCount() {
        return testCount;
    }

    /** The scores of {@code count} samples (28×28, [-1, 1], row-major) sampled for {@code labels}. */
    public Result score(float[] images, long[] labels) {
        int count = labels.length;
        Outputs out = classifier.apply(manager, images, count);
        int[] hits = new int[FashionClassifier.CLASSES];
        int[] asked = new int[FashionClassifier.CLASSES];
        for (int i = 0; i < count; i++) {
            int c = Math.toIntExact(labels[i]);
            if (c < 0 || c >= FashionClassifier.CLASSES) {
                throw new IllegalArgumentException("label " + labels[i] + " of sample " + i + " is not a Fashion-MNIST class (0..9)");
            }
            asked[c]++;
            hits[c] += out.predicted()[i] == c ? 1 : 0;
        }
        double[] perClass = new double[FashionClassifier.CLASSES];
        for (int c = 0; c < perClass.length; c++) {
            perClass[c] = asked[c] == 0 ? Double.NaN : hits[c] / (double) asked[c];
        }
        return new Result(count, out.accuracy(labels), perClass, FrechetDistance.between(out.gaussian(), test));
    }

    /**
     * The Fréchet distance of {@code count} real training images to the test set: what a perfect generator
     * would score with this many samples (the estimate is biased upwards for small counts).
     */
    public double realDataDistance(int count) throws IOException {
        FashionMnist.Images train = source.readImages(FashionMnist.Split.TRAIN, count);
        return FrechetDistance.between(classifier.apply(manager, train.pixels(), train.count()).gaussian(), test);
    }

    /**
     * @param accuracy fraction of samples classified as their requested class
     * @param perClassAccuracy the same per requested class (NaN for a class not requested)
     * @param frechetDistance Fréchet distance to the test set in the classifier's feature space
     */
    public record Result(int count, double accuracy, double[] perClassAccuracy, double frechetDistance) { }
}

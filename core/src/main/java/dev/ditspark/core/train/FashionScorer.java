package dev.ditspark.core.train;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.data.FashionMnist;
import dev.ditspark.core.eval.FashionClassifier;
import dev.ditspark.core.eval.FashionEvaluation;
import dev.ditspark.core.sample.SampleImages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code eval.metric: fashion}: the demo's quality numbers while it trains, the same as {@code dit eval} prints at
 * the end ({@link FashionEvaluation}): the fraction of samples the Fashion-MNIST classifier assigns to their
 * requested class ({@value #ACCURACY}), that fraction for the worst class ({@value #WORST}) and the Fréchet
 * distance of the classifier's 64-d features to the 10,000 test images ({@value #FRECHET}; it depends on the sample
 * count, so it is comparable only between evaluations of the same eval.samples).
 */
public final class FashionScorer implements SampleScorer {
    public static final String ACCURACY = "class_accuracy";
    public static final String WORST = "worst_class_accuracy";
    public static final String FRECHET = "frechet_distance";

    private final NDManager manager;
    private final FashionEvaluation evaluation;
    private String lastWorst = "";

    /**
     * Loads the classifier cached at {@code classifier} (or trains it on the training split and writes it there,
     * as {@code dit eval} does) and scores the test split once.
     *
     * @throws UncheckedIOException the classifier or Fashion-MNIST cannot be read; the message names the file
     */
    public FashionScorer(Path classifier, NDManager parent, Consumer<String> log) {
        manager = parent.newSubManager();
        try {
            FashionClassifier c = FashionClassifier.loadOrTrain(classifier, FashionMnist.installed(),
                    FashionClassifier.Training.standard(), manager, log);
            evaluation = FashionEvaluation.of(c, FashionMnist.installed(), manager);
        } catch (IOException e) {
            manager.close();
            throw new UncheckedIOException("eval.classifier " + classifier + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    @Override
    public Map<String, Double> score(SampleImages images, long[] labels) {
        FashionEvaluation.Result r = evaluation.score(images.grayscale(), labels);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put(ACCURACY, r.accuracy());
        double[] w = worst(r.perClassAccuracy());
        out.put(WORST, w[1]);
        out.put(FRECHET, r.frechetDistance());
        lastWorst = Double.isNaN(w[0]) ? "" : String.format(Locale.ROOT, "worst class %s", FashionMnist.CLASS_NAMES.get((int) w[0]));
        return out;
    }

    /** Names the worst class of the last {@link #score}. */
    @Override
    public String describe(Map<String, Double> scores) {
        return lastWorst;
    }

    /** {class, accuracy} of the lowest accuracy among requested classes ({NaN, NaN} when none). */
    private static double[] worst(double[] perClass) {
        double[] w = {Double.NaN, Double.NaN};
        for (int c = 0; c < perClass.length; c++) {
            if (!Double.isNaN(perClass[c]) && !(perClass[c] >= w[1])) {
                w[0] = c;
                w[1] = perClass[c];
            }
        }
        return w;
    }

    @Override
    public void close() {
        manager.close();
    }
}

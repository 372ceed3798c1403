package dev.ditspark.core.sample;

import dev.ditspark.core.config.SampleSpec;
import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiTConfig;
import java.io.Serializable;

/**
 * One sampling request as every worker of {@code dit sample} needs it: where the weights are, the model's shape,
 * the sampling settings, the seed, the label of every sample, the chunk size and the output directory. Plain
 * serializable values, so a Spark task carries it to an executor; the tasks and a single JVM run the same plan.
 *
 * @param checkpoint a run's checkpoint directory (any Hadoop URI) to take the weights from, or null for
 *     {@code weights}
 * @param step with {@code checkpoint}: the committed step (chosen once, on the driver)
 * @param raw with {@code checkpoint}: the raw training weights ({@code model.safetensors}) instead of the EMA
 * @param weights without {@code checkpoint}: a local file of reference-named DiT weights
 * @param weightsShipped true when {@code weights} names a file shipped to each executor's working directory
 *     (spark-submit --files; the task resolves it through SparkFiles)
 * @param model the DiT's shape (the run's model, or the named one matched to the weights' label table)
 * @param vae a local file of the KL VAE that decodes latents, or null for a pixel-space model
 * @param vaeShipped as {@code weightsShipped}, for the VAE
 * @param labels the class of each sample i (its noise depends only on (seed, i): {@link PerSampleNoise})
 * @param grid the samples grid.png shows
 * @param batch samples per chunk, the unit of work, output file and resumption (chunk k holds samples
 *     k·batch .. min((k+1)·batch, N) − 1)
 * @param out the output directory (a local path or a Hadoop URI); chunks go to {@code out/chunks}
 * @param request what the chunks of a resumable request must agree on (JSON, no credentials)
 */
public record SamplePlan(String checkpoint, long step, boolean raw, String weights, boolean weightsShipped, Shape model, String vae, boolean vaeShipped,
        String steps, String sampler, double cfgScale, boolean guideAllChannels, double eta, long seed, SampleLabels labels,
        int batch, String out, String request, SampleOutput.Grid grid) implements Serializable {
    private static final long serialVersionUID = 1L;

    public SamplePlan {
        if (batch < 1) {
            throw new IllegalArgumentException("--batch: must be at least 1, got " + batch);
        }
        if (labels.count() == 0) {
            throw new IllegalArgumentException("no samples asked");
        }
    }

    /** A DiT's shape as serializable values (DiTConfig itself is a plain record). */
    public record Shape(int inputSize, int patchSize, int inChannels, int hiddenSize, int depth, int numHeads,
            double mlpRatio, double classDropoutProb, int numClasses, boolean learnSigma, Conditioning conditioning)
            implements Serializable {
        private static final long serialVersionUID = 1L;

        public static Shape of(DiTConfig c) {
            return new Shape(c.inputSize(), c.patchSize(), c.inChannels(), c.hiddenSize(), c.depth(), c.numHeads(),
                    c.mlpRatio(), c.classDropoutProb(), c.numClasses(), c.learnSigma(), c.conditioning());
        }

        public DiTConfig config() {
            return new DiTConfig(inputSize, patchSize, inChannels, hiddenSize, depth, numHeads, mlpRatio,
                    classDropoutProb, numClasses, learnSigma, conditioning);
        }
    }

    /** The sampling settings. */
    public SampleSpec spec() {
        return new SampleSpec(steps, sampler, cfgScale, guideAllChannels, eta);
    }

    /** Where the chunks go: OUT/chunks. */
    public String chunksLocation() {
        return out.replaceAll("/+$", "") + "/chunks";
    }

    /** How many samples the request asks for. */
    public int count() {
        return labels.count();
    }

    /** How many chunks of {@link #batch} samples. */
    public int chunks() {
        return (labels.count() + batch - 1) / batch;
    }

    /** First sample of chunk k. */
    public int chunkStart(int k) {
        return k * batch;
    }

    /** Samples in chunk k. */
    public int chunkSize(int k) {
        return Math.min(batch, labels.count() - k * batch);
    }

    /** The same plan with other weights and VAE locations (e.g. as shipped to an executor). */
    public SamplePlan withFiles(String weightsAt, boolean shippedWeights, String vaeAt, boolean shippedVae) {
        return new SamplePlan(checkpoint, step, raw, weightsAt, shippedWeights, model, vaeAt, shippedVae, steps, sampler, cfgScale,
                guideAllChannels, eta, seed, labels, batch, out, request, grid);
    }

    @Override
    public String toString() {
        return "SamplePlan(" + labels + " of " + model + ", steps " + steps + ", " + sampler + ", cfg "
                + cfgScale + ", seed " + seed + ", batch " + batch + ")";
    }
}

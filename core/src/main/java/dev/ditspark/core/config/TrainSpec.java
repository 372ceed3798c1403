package dev.ditspark.core.config;

import static dev.ditspark.core.config.ConfigException.orDefault;
import static dev.ditspark.core.config.ConfigException.require;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code train:} the paper's recipe by default (docs/recipe.md): global batch 256, AdamW lr 1e-4, wd 0, betas
 * (0.9, 0.999), eps 1e-8, EMA 0.9999.
 *
 * @param microBatch images per forward pass on one worker; when global_batch / workers is larger, gradients
 *     are accumulated over several micro-batches (null: no accumulation)
 * @param precision float32 matmul precision on CUDA: {@code tf32} (TensorFloat-32 tensor cores, as the
 *     reference's {@code torch.backends.cuda.matmul.allow_tf32 = True}) or {@code fp32} (full float32); null
 *     means tf32 on a GPU and fp32 on the CPU ({@link #precisionFor})
 * @param emaWarmup whether the EMA decay ramps up as min(ema_decay, (1 + t)/(10 + t)) at optimizer step t
 *     (0-based) instead of being ema_decay from the first step; default false (the paper's constant decay).
 *     A departure for runs shorter than the EMA's horizon 1/(1 − ema_decay), whose EMA would otherwise still
 *     be mostly the initial weights ({@link dev.ditspark.core.train.Ema#decayAt})
 * @param horizontalFlip whether each training image is mirrored with probability 1/2, the paper's only
 *     augmentation (default true); false for data whose mirror images are not samples of the same
 *     distribution (Fashion-MNIST: every shoe faces left, and a mirrored ankle boot is not one the data has)
 * @param lrSchedule {@code constant} (default, the paper's) or {@code cosine} (decay to 0 at max_steps, a
 *     departure for short runs; {@link dev.ditspark.core.train.LrSchedule})
 * @param lrWarmup steps of linear learning-rate warm-up before the schedule (default 0, the paper's)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainSpec(
        Integer globalBatch,
        Integer microBatch,
        Long maxSteps,
        Double lr,
        Double weightDecay,
        Double beta1,
        Double beta2,
        Double eps,
        Double emaDecay,
        Long seed,
        Integer logEvery,
        Integer threads,
        Integer workers,
        String precision,
        Boolean emaWarmup,
        Boolean horizontalFlip,
        String lrSchedule,
        Long lrWarmup) {

    /** {@code train.precision} values. */
    public static final String FP32 = "fp32";
    public static final String TF32 = "tf32";
    /** {@code train.lr_schedule} values ({@link dev.ditspark.core.train.LrSchedule}). */
    public static final String CONSTANT = "constant";
    public static final String COSINE = "cosine";

    public TrainSpec {
        globalBatch = orDefault(globalBatch, 256);
        maxSteps = orDefault(maxSteps, 400_000L);
        lr = orDefault(lr, 1e-4);
        weightDecay = orDefault(weightDecay, 0.0);
        beta1 = orDefault(beta1, 0.9);
        beta2 = orDefault(beta2, 0.999);
        eps = orDefault(eps, 1e-8);
        emaDecay = orDefault(emaDecay, 0.9999);
        seed = orDefault(seed, 0L);
        logEvery = orDefault(logEvery, 100);
        workers = orDefault(workers, 1);
        emaWarmup = orDefault(emaWarmup, false);
        horizontalFlip = orDefault(horizontalFlip, true);
        lrSchedule = orDefault(lrSchedule, CONSTANT);
        lrWarmup = orDefault(lrWarmup, 0L);
        require(globalBatch > 0, "train.global_batch", "must be positive, got " + globalBatch);
        require(workers > 0, "train.workers", "must be positive, got " + workers);
        require(globalBatch % workers == 0, "train.global_batch",
                "must split evenly over train.workers " + workers + ", got " + globalBatch);
        int perWorker = globalBatch / workers;
        require(microBatch == null || (microBatch > 0 && perWorker % microBatch == 0), "train.micro_batch",
                "must divide the per-worker batch " + perWorker + ", got " + microBatch);
        require(maxSteps > 0, "train.max_steps", "must be positive, got " + maxSteps);
        require(lr > 0, "train.lr", "must be positive, got " + lr);
        require(lrSchedule.equals(CONSTANT) || lrSchedule.equals(COSINE), "train.lr_schedule",
                "constant or cosine, got " + lrSchedule);
        require(lrWarmup >= 0, "train.lr_warmup", "must not be negative, got " + lrWarmup);
        require(weightDecay >= 0, "train.weight_decay", "must not be negative, got " + weightDecay);
        require(beta1 >= 0 && beta1 < 1, "train.beta1", "must be in [0, 1), got " + beta1);
        require(beta2 >= 0 && beta2 < 1, "train.beta2", "must be in [0, 1), got " + beta2);
        require(eps > 0, "train.eps", "must be positive, got " + eps);
        require(emaDecay >= 0 && emaDecay <= 1, "train.ema_decay", "must be in [0, 1], got " + emaDecay);
        require(logEvery > 0, "train.log_every", "must be positive, got " + logEvery);
        require(threads == null || threads > 0, "train.threads", "must be positive, got " + threads);
        require(precision == null || precision.equals(FP32) || precision.equals(TF32), "train.precision",
                "fp32 or tf32, got " + precision);
    }

    /** The precision to train with on a GPU ({@code gpu}) or the CPU: the configured one, else tf32 / fp32. */
    public String precisionFor(boolean gpu) {
        return precision != null ? precision : gpu ? TF32 : FP32;
    }

    /** Images one worker contributes to each optimizer step. */
    public int perWorkerBatch() {
        return globalBatch / workers;
    }

    /** Images per forward pass on one worker. */
    public int effectiveMicroBatch() {
        return microBatch != null ? microBatch : perWorkerBatch();
    }

    /** Forward/backward passes per optimizer step (gradient accumulation). */
    public int accumulationSteps() {
        return perWorkerBatch() / effectiveMicroBatch();
    }
}

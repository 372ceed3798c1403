package dev.ditspark.launcher;

import ai.djl.ndarray.NDManager;
import dev.ditspark.core.config.FloatType;
import dev.ditspark.core.engine.TorchEngine;
import dev.ditspark.core.model.DiT;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.weights.SafetensorsFile;
import dev.ditspark.core.weights.SafetensorsWriter;
import dev.ditspark.core.weights.StateDict;
import dev.ditspark.core.weights.TensorDType;
import dev.ditspark.core.weights.TensorInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dit convert}: weights under the reference DiT {@code state_dict} names, as safetensors a PyTorch user
 * loads with {@code load_file} — exported from a run's checkpoint (EMA by default), or re-encoded from another
 * such file (e.g. BF16 → F32, F32 → F16). With {@code --model} the result is checked against that model's keys
 * and shapes before it is written.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        header = "Export or re-encode weights under the reference DiT state_dict names.",
        description = {"Export a checkpoint's EMA (or raw) weights under the reference DiT names, or re-encode a",
            "safetensors file (F32/F16/BF16). Example: dit convert --checkpoint runs/demo/checkpoints --out ema.safetensors",
            "(the released .pt files: tools/reference/pt_to_safetensors.py turns them into safetensors first)"})
public final class ConvertCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    WeightsSource source;

    @Option(names = "--dtype", defaultValue = "float32",
            description = "float32, float16 or bfloat16 (f32, f16, bf16 also accepted; default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--model", description = "Check the keys and shapes against this model, e.g. DiT-XL/2 (with --weights).")
    String model;

    @Option(names = "--image-size", defaultValue = "256", description = "With --model (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The safetensors file to write.")
    Path out;

    @Override
    public Integer call() throws IOException {
        TensorDType target = parseDtype(dtype);
        PrintWriter pw = spec.commandLine().getOut();
        Checks.outputFile("--out", out);
        if (source.fromCheckpoint()) {
            WeightsSource.RunCheckpoint c = source.checkpoint();
            try (SafetensorsFile in = c.open()) {
                check(in, c.config().model().toDiTConfig());
                // No path or URI in the metadata: it travels with the file (a checkout path, a bucket, credentials).
                write(in, target, Map.of("format", "pt", "source", "dit-spark checkpoint",
                        "step", Long.toString(c.step()), "weights", c.raw() ? "model" : "ema"), pw);
            }
        } else {
            Checks.inputFile("--weights", source.weights());
            try (SafetensorsFile in = SafetensorsFile.open(source.weights())) {
                if (model != null) {
                    check(in, ModelOptions.matchLabelTable(ModelOptions.named(model, imageSize, 4, 1000), in));
                }
                Map<String, String> meta = new LinkedHashMap<>(in.metadata());
                meta.putIfAbsent("format", "pt");
                write(in, target, meta, pw);
            }
        }
        return 0;
    }

    /** {@code --dtype} in any {@link FloatType} spelling, as the safetensors dtype it writes. */
    static TensorDType parseDtype(String name) {
        return switch (FloatType.parse(name, "--dtype")) {
            case FLOAT32 -> TensorDType.F32;
            case FLOAT16 -> TensorDType.F16;
            case BFLOAT16 -> TensorDType.BF16;
        };
    }

    /** Loads the file into a model of {@code config}: every missing, unexpected or mis-shaped key is named. */
    private static void check(SafetensorsFile in, DiTConfig config) throws IOException {
        try (NDManager m = TorchEngine.newManager(ai.djl.Device.cpu())) {
            StateDict.load(new DiT(config), in, m);
        }
    }

    /** Re-encodes tensor by tensor (a 2.7 GB DiT-XL/2 never sits in memory twice). */
    private void write(SafetensorsFile in, TensorDType target, Map<String, String> meta, PrintWriter pw) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter(meta);
        for (String name : in.names()) {
            TensorInfo info = in.info(name);
            w.add(name, target, info.shape(), () -> encode(in, name, target));
        }
        w.write(out);
        pw.printf(Locale.ROOT, "wrote %d tensors (%s, %.1f MB) to %s%n", in.names().size(), target, w.fileSize() / 1e6, out);
        pw.flush();
    }

    private static ByteBuffer encode(SafetensorsFile in, String name, TensorDType target) {
        float[] f;
        try {
            f = in.readFloat32(name);
        } catch (IOException e) {
            throw new UncheckedIOException(in.displayName() + ": tensor " + name + ": " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.allocate(target.byteSize() * f.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : f) {
            switch (target) {
                case F32 -> b.putFloat(x);
                case F16 -> b.putShort(TensorDType.floatToF16(x));
                default -> b.putShort(TensorDType.floatToBf16(x));
            }
        }
        return b.flip();
    }
}

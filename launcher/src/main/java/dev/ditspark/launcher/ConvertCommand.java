package dev.ditspark.launcher;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditspark.core.checkpoint.CheckpointStore;
import dev.ditspark.core.config.RunConfig;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dit convert}: weights under the reference DiT {@code state_dict} names, as safetensors a PyTorch user
 * loads with {@code load_file} — exported from a run's checkpoint (EMA by default), or re-encoded from another
 * such file (e.g. BF16 → F32, F32 → F16). With {@code --model} the result is checked against that model's keys
 * and shapes before it is written.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Export a checkpoint's EMA (or raw) weights under the reference DiT names, or re-encode a",
            "safetensors file (F32/F16/BF16). Example: dit convert --checkpoint runs/demo/checkpoints --out ema.safetensors",
            "(the released .pt files: tools/reference/pt_to_safetensors.py turns them into safetensors first)"})
public final class ConvertCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    static final class Source {
        @Option(names = "--checkpoint", paramLabel = "URI", description = "A run's checkpoint directory (newest step unless --step).")
        String checkpoint;

        @Option(names = "--weights", paramLabel = "FILE", description = "A safetensors file to re-encode.")
        Path weights;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--step", description = "Checkpoint step (default: the newest committed).")
    Long step;

    @Option(names = "--raw", description = "Export the raw training weights instead of the EMA.")
    boolean raw;

    @Option(names = "--dtype", defaultValue = "F32", description = "F32, F16 or BF16 (default: ${DEFAULT-VALUE}).")
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
        if (source.checkpoint != null) {
            CheckpointStore store = CheckpointStore.open(source.checkpoint, new Configuration());
            long at = step != null ? step : store.latestStep().orElseThrow(() -> new IllegalArgumentException(
                    "--checkpoint " + source.checkpoint + ": no committed checkpoint there"));
            RunConfig run = RunConfig.bind((ObjectNode) store.readState(at).config(), List.of(), store.uri() + " step " + at);
            try (SafetensorsFile in = store.openTensors(at, raw ? "model" : "ema")) {
                check(in, run.model().toDiTConfig());
                write(in, target, Map.of("format", "pt", "source", store.uri() + "/" + CheckpointStore.directoryName(at),
                        "weights", raw ? "model" : "ema"), pw);
            }
        } else {
            try (SafetensorsFile in = SafetensorsFile.open(source.weights)) {
                if (model != null) {
                    check(in, DiTConfig.named(model, imageSize));
                }
                Map<String, String> meta = new LinkedHashMap<>(in.metadata());
                meta.putIfAbsent("format", "pt");
                write(in, target, meta, pw);
            }
        }
        return 0;
    }

    private static TensorDType parseDtype(String name) {
        try {
            TensorDType t = TensorDType.valueOf(name.toUpperCase(Locale.ROOT));
            if (t == TensorDType.F32 || t == TensorDType.F16 || t == TensorDType.BF16) {
                return t;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new IllegalArgumentException("--dtype: F32, F16 or BF16, got " + name);
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

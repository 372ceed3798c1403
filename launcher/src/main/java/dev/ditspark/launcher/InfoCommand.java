package dev.ditspark.launcher;

import dev.ditspark.core.model.Conditioning;
import dev.ditspark.core.model.DiTConfig;
import dev.ditspark.core.model.ModelSummary;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code dit info}: parameters, forward GMACs, tokens and memory of a DiT configuration, or of all twelve. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = {"Print the size and cost of a DiT configuration (no weights are loaded).",
            "Without --model, prints the table of all 12 published configurations."})
public final class InfoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME", description = "DiT-S/2 ... DiT-XL/8.")
    String model;

    @Option(names = "--image-size", defaultValue = "256", paramLabel = "PX",
            description = "Image side in pixels; the latent side is PX/8 (default: ${DEFAULT-VALUE}).")
    int imageSize;

    @Option(names = "--num-classes", defaultValue = "1000", description = "Class count (default: ${DEFAULT-VALUE}).")
    int numClasses;

    @Option(names = "--in-channels", defaultValue = "4", description = "Latent channels (default: ${DEFAULT-VALUE}).")
    int inChannels;

    @Option(names = "--conditioning", defaultValue = "adaln-zero",
            description = "adaln-zero, adaln, in-context or cross-attn (default: ${DEFAULT-VALUE}).")
    String conditioning;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Conditioning c;
        try {
            c = Conditioning.fromId(conditioning);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage(), e);
        }
        if (model == null) {
            out.println(String.format(Locale.ROOT, "%-9s %6s %14s %10s %7s %10s", "model", "px", "parameters",
                    "fwd GMACs", "tokens", "fp32 MiB"));
            for (String name : DiTConfig.publishedNames()) {
                ModelSummary s = summary(name, c);
                out.println(String.format(Locale.ROOT, "%-9s %6d %,14d %10.2f %7d %10.1f", name, imageSize,
                        s.parameters(), s.forwardGmacs(), s.tokens(), s.weightBytes() / 1048576.0));
            }
        } else {
            ModelSummary s = summary(model, c);
            DiTConfig cfg = s.config();
            List<String> lines = List.of(
                    line("model", model + " (" + c.id() + ")"),
                    line("image size", imageSize + " px, latent " + cfg.inChannels() + "x" + cfg.inputSize() + "x"
                            + cfg.inputSize()),
                    line("depth / hidden / heads / patch", cfg.depth() + " / " + cfg.hiddenSize() + " / "
                            + cfg.numHeads() + " / " + cfg.patchSize()),
                    line("tokens", String.valueOf(s.tokens())),
                    line("parameters", String.format(Locale.ROOT, "%,d (trainable %,d)", s.parameters(),
                            s.trainableParameters())),
                    line("forward GMACs / image", String.format(Locale.ROOT, "%.2f", s.forwardGmacs())),
                    line("training GMACs / image", String.format(Locale.ROOT, "%.2f (about 3x forward)",
                            s.trainingGmacsPerImage())),
                    line("weights (fp32)", mib(s.weightBytes())),
                    line("weights+grads+EMA+AdamW", mib(s.trainingStateBytes())));
            lines.forEach(out::println);
        }
        out.flush();
        return 0;
    }

    private ModelSummary summary(String name, Conditioning c) {
        return ModelSummary.of(ModelOptions.named(name, imageSize, inChannels, numClasses).withConditioning(c));
    }

    private static String line(String key, String value) {
        return String.format(Locale.ROOT, "%-31s %s", key + ":", value);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%,.1f MiB", bytes / 1048576.0);
    }
}

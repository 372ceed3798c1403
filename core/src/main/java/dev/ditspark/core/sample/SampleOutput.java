package dev.ditspark.core.sample;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * The end of a {@code dit sample} request: its finished chunks joined, in sample order, into {@code OUT/samples.npz}
 * (ADM's format: {@code arr_0} N×H×W×3 uint8, plus {@code labels} N int64) and {@code OUT/grid.png}, then the
 * chunks removed. The chunks are streamed one at a time, so 50,000 samples of 256 px (9.8 GB) need no more memory
 * than one chunk.
 */
public final class SampleOutput {
    public static final String SAMPLES = "samples.npz";
    public static final String GRID = "grid.png";

    private SampleOutput() {
    }

    /**
     * Which samples the grid shows and in how many columns.
     *
     * @param indices sample indices, row-major
     */
    public record Grid(int[] indices, int columns) implements java.io.Serializable {
        /**
         * {@code columns} samples of each class row: the first {@code columns} of each of the first {@code rows}
         * classes of a class-major request with {@code perClass} samples per class.
         */
        public static Grid perClass(int rows, int perClass, int columns) {
            int[] first = new int[rows * columns];
            for (int i = 0; i < first.length; i++) {
                first[i] = (i / columns) * perClass + i % columns;
            }
            return new Grid(first, columns);
        }

        /** The first {@code n} samples, {@code columns} per row. */
        public static Grid first(int n, int columns) {
            int[] first = new int[n];
            for (int i = 0; i < n; i++) {
                first[i] = i;
            }
            return new Grid(first, columns);
        }
    }

    /**
     * Writes samples.npz and grid.png of {@code plan} into its output directory from its chunks, then deletes them.
     *
     * @throws IOException a chunk is missing or unreadable (an unreadable one is deleted: rerun to sample it
     *     again), or the output cannot be written
     */
    public static void assemble(SamplePlan plan, Configuration hadoop) throws IOException {
        Grid grid = plan.grid();
        SampleDirectory out = SampleDirectory.of(plan.out(), hadoop);
        SampleChunks chunks = SampleChunks.attach(plan.chunksLocation(), hadoop);
        SampleImages first = chunk(chunks, plan, 0);
        Map<Integer, SampleImages> picked = new HashMap<>();
        out.writeAtomically(SAMPLES, file -> SampleImages.writeNpz(file, plan.count(), first.height(), first.width(),
                plan.chunks(), k -> {
                    SampleImages part = k == 0 ? first : chunk(chunks, plan, k);
                    int start = plan.chunkStart(k);
                    for (int i : grid.indices()) {
                        if (i >= start && i < start + part.count()) {
                            picked.put(i, part.subset(new int[] {i - start}));
                        }
                    }
                    return part;
                }));
        List<SampleImages> cells = new ArrayList<>();
        for (int i : grid.indices()) {
            cells.add(picked.get(i));
        }
        SampleImages g = SampleImages.concat(cells);
        out.writeAtomically(GRID, png -> g.writeGrid(png, grid.columns()));
        chunks.delete();
    }

    /**
     * The closing line of a request: "N samples (DDIM 50 steps, cfg 1.50) in 12.3 s: OUT/grid.png, OUT/samples.npz",
     * with the chunks resumed from an earlier run when there were any.
     */
    public static String summary(SamplePlan plan, int resumedChunks, double seconds) {
        String out = plan.out().replaceAll("/+$", "");
        return String.format(java.util.Locale.ROOT, "%d samples (%s, cfg %.2f) in %.1f s%s: %s/%s, %s/%s", plan.count(),
                SamplingSteps.describe(plan.sampler(), plan.steps()), plan.cfgScale(), seconds,
                resumedChunks > 0 ? " (" + resumedChunks + " chunks resumed from an earlier run)" : "", out, GRID, out,
                SAMPLES);
    }

    private static SampleImages chunk(SampleChunks chunks, SamplePlan plan, int k) throws IOException {
        int start = plan.chunkStart(k);
        int n = plan.chunkSize(k);
        return chunks.read(start, n).orElseThrow(() -> new IOException("sample: chunk " + SampleChunks.name(start,
                start + n) + " in " + chunks.location() + " is missing or unreadable; run the same command again to "
                + "sample it"));
    }
}

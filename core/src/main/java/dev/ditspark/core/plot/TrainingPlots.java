package dev.ditspark.core.plot;

import dev.ditspark.core.train.MetricsRecord;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The charts of a run's metrics history ({@code metrics.jsonl}), drawn with XChart into {@code RUN_DIR/plots/}
 * as {@value #WIDTH}×{@value #HEIGHT} PNGs, through the Hadoop FileSystem API (file://, hdfs://, s3a://):
 * {@code loss.png} (the logged loss, its mse and vb terms, and the loss smoothed), {@code throughput.png}
 * (images/s) and, when the history holds evaluation results, {@code eval.png}: one panel per metric (each on its own
 * scale: a class accuracy in [0, 1] and a Fréchet distance in the tens do not share an axis), stacked,
 * {@value #WIDTH}×{@value #EVAL_PANEL_HEIGHT} each. Headless: no display is needed.
 */
public final class TrainingPlots {
    public static final String DIRECTORY = "plots";
    public static final int WIDTH = 900;
    public static final int HEIGHT = 540;
    public static final int EVAL_PANEL_HEIGHT = 300;

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true"); // drawing on a cluster node without a display
        }
    }

    private TrainingPlots() {
    }

    /**
     * Draws the charts of {@code history} into {@code runDir}/plots, replacing older ones; returns the files
     * written.
     *
     * @throws IOException the directory cannot be written (the message names the file)
     */
    public static List<Path> write(List<MetricsRecord> history, String runDir, Configuration conf) throws IOException {
        Path dir = new Path(runDir, DIRECTORY);
        FileSystem fs = dir.getFileSystem(conf);
        if (fs instanceof org.apache.hadoop.fs.LocalFileSystem local) {
            fs = local.getRaw(); // no .crc files beside the charts
        }
        List<Path> written = new ArrayList<>();
        written.add(save(loss(history), fs, new Path(dir, "loss.png")));
        written.add(save(throughput(history), fs, new Path(dir, "throughput.png")));
        List<XYChart> eval = evaluation(history);
        if (!eval.isEmpty()) {
            written.add(save(stacked(eval), fs, new Path(dir, "eval.png")));
        }
        return written;
    }

    /** The loss chart: raw window means (loss, mse, vb) and the loss smoothed; a log axis when all are positive. */
    static XYChart loss(List<MetricsRecord> h) {
        XYChart c = chart("Training loss (window means)", "loss");
        double[] steps = column(h, r -> r.step());
        double[] loss = column(h, MetricsRecord::loss);
        add(c, "loss", steps, loss, new Color(0x9ecae1));
        add(c, "mse", steps, column(h, MetricsRecord::mse), new Color(0xfdae6b));
        add(c, "vb", steps, column(h, MetricsRecord::vb), new Color(0xa1d99b));
        add(c, "loss, smoothed (mean of " + smoothingWindow(h.size()) + " points)", steps,
                smooth(loss, smoothingWindow(h.size())), new Color(0x08519c)).setLineWidth(2.5f);
        boolean positive = h.stream().allMatch(r -> !(r.loss() <= 0 || r.mse() <= 0 || r.vb() <= 0));
        c.getStyler().setYAxisLogarithmic(positive && h.stream().anyMatch(r -> r.loss() > 0));
        return c;
    }

    static XYChart throughput(List<MetricsRecord> h) {
        XYChart c = chart("Throughput", "images / s (all workers)");
        add(c, "images/s", column(h, r -> r.step()), column(h, MetricsRecord::imagesPerSecond), new Color(0x3182bd));
        return c;
    }

    /**
     * One chart per evaluation metric (in name order) over the steps where it was measured, {@value #WIDTH}×
     * {@value #EVAL_PANEL_HEIGHT}; none when the history holds no evaluation.
     */
    static List<XYChart> evaluation(List<MetricsRecord> h) {
        TreeSet<String> names = new TreeSet<>();
        h.forEach(r -> names.addAll(r.eval().keySet()));
        List<XYChart> charts = new ArrayList<>();
        for (String name : names) {
            List<double[]> points = new ArrayList<>();
            for (MetricsRecord r : h) {
                Double v = r.eval().get(name);
                if (v != null && Double.isFinite(v)) {
                    points.add(new double[] {r.step(), v});
                }
            }
            if (points.isEmpty()) {
                continue;
            }
            XYChart c = chart("Evaluation: " + name, name, EVAL_PANEL_HEIGHT);
            c.getStyler().setMarkerSize(7);
            c.getStyler().setLegendVisible(false);
            XYSeries s = c.addSeries(name, points.stream().mapToDouble(p -> p[0]).toArray(),
                    points.stream().mapToDouble(p -> p[1]).toArray());
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setLineColor(new Color(0x08519c));
            s.setMarkerColor(new Color(0x08519c));
            charts.add(c);
        }
        return charts;
    }

    /** The charts' images one above the other. */
    static BufferedImage stacked(List<XYChart> charts) {
        List<BufferedImage> panels = charts.stream().map(BitmapEncoder::getBufferedImage).toList();
        int width = panels.stream().mapToInt(BufferedImage::getWidth).max().orElse(WIDTH);
        int height = panels.stream().mapToInt(BufferedImage::getHeight).sum();
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        int y = 0;
        for (BufferedImage p : panels) {
            g.drawImage(p, 0, y, null);
            y += p.getHeight();
        }
        g.dispose();
        return out;
    }

    /** Points averaged by the smoothed loss: about a twentieth of the history, at least 1. */
    static int smoothingWindow(int points) {
        return Math.max(1, points / 20);
    }

    /** Trailing mean of the last {@code k} finite values at each point (NaN until one is seen). */
    public static double[] smooth(double[] y, int k) {
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            double sum = 0;
            int n = 0;
            for (int j = Math.max(0, i - k + 1); j <= i; j++) {
                if (Double.isFinite(y[j])) {
                    sum += y[j];
                    n++;
                }
            }
            out[i] = n > 0 ? sum / n : Double.NaN;
        }
        return out;
    }

    private static XYChart chart(String title, String yTitle) {
        return chart(title, yTitle, HEIGHT);
    }

    private static XYChart chart(String title, String yTitle, int height) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(height).title(title).xAxisTitle("step").yAxisTitle(yTitle)
                .build();
        Styler s = c.getStyler();
        s.setLegendPosition(Styler.LegendPosition.InsideNE);
        s.setChartBackgroundColor(Color.WHITE);
        s.setAntiAlias(true);
        c.getStyler().setMarkerSize(0);
        return c;
    }

    private static XYSeries add(XYChart c, String name, double[] x, double[] y, Color color) {
        // XChart needs at least one point; NaN (a step whose value is unknown) is left as a gap.
        XYSeries s = x.length == 0 ? c.addSeries(name, new double[] {0}, new double[] {Double.NaN}) : c.addSeries(name, x, y);
        s.setLineColor(color);
        s.setMarker(SeriesMarkers.NONE);
        return s;
    }

    private static double[] column(List<MetricsRecord> h, ToDoubleFunction<MetricsRecord> f) {
        return h.stream().mapToDouble(f).toArray();
    }

    private static Path save(XYChart chart, FileSystem fs, Path file) throws IOException {
        return save(BitmapEncoder.getBufferedImage(chart), fs, file);
    }

    private static Path save(BufferedImage image, FileSystem fs, Path file) throws IOException {
        try (OutputStream out = fs.create(file, true)) {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException(file + ": no PNG writer in this JVM");
            }
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        return file;
    }
}

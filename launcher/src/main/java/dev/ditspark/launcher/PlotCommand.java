package dev.ditspark.launcher;

import dev.ditspark.core.plot.TrainingPlots;
import dev.ditspark.core.train.MetricsHistory;
import dev.ditspark.core.train.MetricsRecord;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code dit plot RUN_DIR}: the charts of a run's metrics.jsonl, redrawn into RUN_DIR/plots (as at each checkpoint). */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = {"Draw the charts of a training run (loss raw and smoothed, throughput, evaluation) from",
            "RUN_DIR/metrics.jsonl into RUN_DIR/plots/*.png. Training redraws them at each checkpoint;",
            "this works while a run is going, after it ended, or on a copied run directory."})
public final class PlotCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN_DIR",
            description = "The run directory (the run's checkpoint.uri): a path, file://, hdfs:// or s3a:// URI.")
    String runDir;

    @Override
    public Integer call() throws IOException {
        Configuration conf = new Configuration();
        Path dir = new Path(runDir);
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            throw new FileNotFoundException(runDir + ": no such run directory (RUN_DIR is a run's checkpoint.uri)");
        }
        List<MetricsRecord> history;
        try {
            history = MetricsHistory.read(runDir, conf);
        } catch (FileNotFoundException e) {
            throw new FileNotFoundException(runDir + ": no " + MetricsHistory.FILE_NAME + " here; a run writes it at its "
                    + "first logged step (train.log_every)");
        }
        if (history.isEmpty()) {
            throw new IOException(new Path(dir, MetricsHistory.FILE_NAME) + ": no metrics yet (the run has not reached "
                    + "its first logged step)");
        }
        PrintWriter out = spec.commandLine().getOut();
        for (Path p : TrainingPlots.write(history, runDir, conf)) {
            out.println(p);
        }
        out.println("drew " + history.size() + " points, steps " + history.get(0).step() + " to "
                + history.get(history.size() - 1).step());
        out.flush();
        return 0;
    }
}

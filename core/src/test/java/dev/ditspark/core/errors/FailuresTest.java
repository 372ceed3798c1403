package dev.ditspark.core.errors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.config.ConfigException;
import dev.ditspark.core.data.DatasetFormatException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.Test;

/** Which failures a job must not retry, and the one line shown for a failure. */
class FailuresTest {

    @Test
    void deterministicFailuresAreBadInputAnywhereInTheChain() {
        assertTrue(Failures.isDeterministic(new ConfigException("train.lr: must be positive")));
        assertTrue(Failures.isDeterministic(new DatasetFormatException("part-0.parquet", "corrupt or truncated shard")));
        assertTrue(Failures.isDeterministic(new UncheckedIOException("data.uri x: missing", new FileNotFoundException("x"))));
        assertTrue(Failures.isDeterministic(new RuntimeException(new org.apache.hadoop.fs.ChecksumException("Checksum error", 0))));
        assertFalse(Failures.isDeterministic(new UncheckedIOException(new SocketTimeoutException("read timed out"))));
        assertFalse(Failures.isDeterministic(new IllegalStateException("rank 0: injected failure at step 3")));
    }

    @Test
    void theMessageIsTheOutermostOneOfOursOnOneLine() {
        Exception spark = new Exception("Job aborted due to stage failure: ...\n\tat org.apache.spark...",
                new DatasetFormatException("s3a://b/part-0.parquet", "corrupt or truncated shard: EOF\nmore"));
        assertEquals("s3a://b/part-0.parquet: corrupt or truncated shard: EOF", Failures.message(spark));
        assertEquals("SocketTimeoutException: read timed out",
                Failures.message(new Exception("wrapper", new SocketTimeoutException("read timed out"))));
    }

    @Test
    void theWatchEndsAJobWithTheFirstDeterministicFailureElseTheLastCause() {
        FailureWatch w = new FailureWatch();
        assertFalse(w.taskFailed("java.lang.IllegalStateException", "rank 1: injected failure at step 3"));
        assertTrue(w.taskFailed(DitUserError.class.getName(), "rank 0: data.uri: no dataset\n\tat x"));
        assertFalse(w.taskFailed(DitUserError.class.getName(), "rank 1: data.uri: no dataset"), "only the first cancels");
        RuntimeException e = w.toException("training on 2 workers", new Exception("Job cancelled"));
        assertInstanceOf(DitUserError.class, e);
        assertEquals("rank 0: data.uri: no dataset", e.getMessage());

        FailureWatch lost = new FailureWatch();
        lost.taskFailed(null, "ExecutorLostFailure (executor 1 exited caused by one of the running tasks)");
        lost.taskFailed("java.io.IOException", "s3a://b/runs: connection refused");
        RuntimeException f = lost.toException("training on 2 workers", new Exception("Job aborted"));
        assertInstanceOf(JobFailedException.class, f);
        assertEquals("training on 2 workers failed (2 failed tasks): s3a://b/runs: connection refused", f.getMessage());
    }
}

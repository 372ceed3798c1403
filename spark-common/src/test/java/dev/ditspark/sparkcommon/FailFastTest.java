package dev.ditspark.sparkcommon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ditspark.core.errors.DitUserError;
import dev.ditspark.core.errors.JobFailedException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fail-fast pair both jobs use, on a real local Spark that retries each failed task up to 4 times. */
class FailFastTest {
    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[1,4]").setAppName("fail-fast-test")
                .set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1"));
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    /**
     * Runs one task that throws {@code failure}; returns the driver's exception. (The cancellation that stops
     * retries goes through Spark's asynchronous listener bus, so local mode's fast retries may run before it
     * lands: the number of failed tasks is asserted only where it must be 4.)
     */
    private static RuntimeException runFailing(Exception failure) {
        String group = "fail-fast-" + System.nanoTime();
        sc.setJobGroup(group, "test", true);
        FailFast failures = new FailFast(sc, group);
        try {
            sc.parallelize(List.of(7), 1).map(i -> {
                try {
                    throw failure;
                } catch (Exception e) {
                    FailFast.throwIfDeterministic("item " + i, e);
                    throw e;
                }
            }).collect();
            throw new AssertionError("the job did not fail");
        } catch (Exception e) {
            assertTrue(e instanceof SparkException, e.toString());
            return failures.watch.toException("the test job", e);
        } finally {
            failures.close();
            sc.clearJobGroup();
        }
    }

    @Test
    void aDeterministicFailureEndsTheJobWithItsLine() {
        RuntimeException e = runFailing(new FileNotFoundException("s3a://bucket/x.png (no such file)"));
        assertTrue(e instanceof DitUserError, e.toString());
        assertEquals("item 7: FileNotFoundException: s3a://bucket/x.png (no such file)", e.getMessage());
    }

    @Test
    void aPassingFailureIsRetriedAndReportedAsTheRootCause() {
        RuntimeException e = runFailing(new IOException("connection reset"));
        assertTrue(e instanceof JobFailedException, e.toString());
        assertEquals("the test job failed (4 failed tasks): connection reset", e.getMessage());
    }

    @Test
    void aDitUserErrorPassesUnchanged() {
        DitUserError mine = new DitUserError("rank 2: data.path: no such directory");
        assertEquals(mine, assertThrows(DitUserError.class, () -> {
            FailFast.throwIfDeterministic("rank 2", mine);
            throw mine;
        }));
    }
}

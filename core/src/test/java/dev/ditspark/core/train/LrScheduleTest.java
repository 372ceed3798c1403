package dev.ditspark.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ditspark.core.config.ConfigException;
import dev.ditspark.core.config.RunConfig;
import dev.ditspark.core.config.TrainSpec;
import dev.ditspark.core.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The learning-rate schedule against torch's schedulers (fixture: tools/reference/make_lr_schedule_fixture.py). */
class LrScheduleTest {

    @Test
    void cosineMatchesTorchCosineAnnealingLr() throws Exception {
        JsonNode f = new ObjectMapper().readTree(Fixtures.path("lr_schedule.json").toFile());
        double lr = f.get("lr").asDouble();
        long steps = f.get("max_steps").asLong();
        assertTrajectory(f.get("cosine"), new LrSchedule(lr, TrainSpec.COSINE, 0, steps));
        assertTrajectory(f.get("cosine_warmup"), new LrSchedule(lr, TrainSpec.COSINE, f.get("warmup").asLong(), steps));
    }

    private static void assertTrajectory(JsonNode expected, LrSchedule schedule) {
        for (int t = 0; t < expected.size(); t++) {
            double want = expected.get(t).asDouble();
            assertEquals(want, schedule.lrAt(t), 1e-12 * Math.max(want, 1e-6), "lr of step " + t);
        }
    }

    @Test
    void constantIsThePapersAndWarmupRampsLinearly() {
        LrSchedule constant = new LrSchedule(1e-4, TrainSpec.CONSTANT, 0, 400_000);
        assertEquals(1e-4, constant.lrAt(0));
        assertEquals(1e-4, constant.lrAt(399_999));
        LrSchedule warm = new LrSchedule(1e-4, TrainSpec.CONSTANT, 4, 100);
        assertEquals(0.25e-4, warm.lrAt(0), 1e-18);
        assertEquals(0.75e-4, warm.lrAt(2), 1e-18);
        assertEquals(1e-4, warm.lrAt(3), 1e-18);
        assertEquals(1e-4, warm.lrAt(50), 1e-18);
        // Past max_steps (a resume with a larger max_steps changes the config; a run never steps past it) cosine stays at 0.
        assertEquals(0.0, new LrSchedule(1e-3, TrainSpec.COSINE, 0, 10).lrAt(12), 1e-18);
    }

    @Test
    void configDefaultsAndBadValuesNameTheField(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("run.yaml");
        Files.writeString(file, "model: {name: DiT-S/8, image_size: 256}\ndata: {uri: /tmp/latents}\ncheckpoint: {uri: /tmp/ckpt}\n");
        TrainSpec defaults = RunConfig.load(file, List.of()).train();
        assertEquals(TrainSpec.CONSTANT, defaults.lrSchedule());
        assertEquals(0L, defaults.lrWarmup());
        ConfigException e = assertThrows(ConfigException.class,
                () -> RunConfig.load(file, List.of("train.lr_schedule=linear")));
        assertEquals(true, e.getMessage().contains("train.lr_schedule"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> RunConfig.load(file, List.of("train.lr_warmup=-1")));
        assertEquals(true, e.getMessage().contains("train.lr_warmup"), e.getMessage());
    }
}

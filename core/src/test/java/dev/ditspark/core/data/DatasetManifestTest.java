package dev.ditspark.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ditspark.core.data.DatasetManifest.Shard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetManifestTest {

    @TempDir
    Path dir;

    static DatasetManifest sample() {
        return DatasetManifest.describe(4, 32, 32, LatentDType.FLOAT16, "stabilityai/sd-vae-ft-ema", 0.18215, 256,
                        List.of("cat", "dog", "fish"), "s3a://bucket/images/train")
                .withShards(List.of(new Shard("part-00000.parquet", 100), new Shard("part-00001.parquet", 23)));
    }

    @Test
    void jsonRoundTripKeepsEveryFieldInSnakeCase() throws Exception {
        DatasetManifest m = sample();
        String json = m.toJson();
        JsonNode tree = new ObjectMapper().readTree(json);
        for (String field : List.of("format", "version", "count", "shards", "channels", "height", "width", "dtype",
                "encoder", "scale_factor", "image_size", "num_classes", "class_names", "source")) {
            assertTrue(tree.has(field), field + " in " + json);
        }
        assertEquals(14, tree.size(), json);
        assertEquals("dit-latents", tree.get("format").asText());
        assertEquals(1, tree.get("version").asInt());
        assertEquals("float16", tree.get("dtype").asText());
        assertEquals(0.18215, tree.get("scale_factor").asDouble());
        assertEquals(123, tree.get("count").asLong());
        assertEquals("part-00001.parquet", tree.get("shards").get(1).get("file").asText());
        assertEquals(23, tree.get("shards").get(1).get("rows").asLong());
        assertEquals(m, DatasetManifest.fromJson(json, "m.json"));
    }

    private static String edit(java.util.function.Consumer<ObjectNode> change) throws Exception {
        ObjectNode tree = (ObjectNode) new ObjectMapper().readTree(sample().toJson());
        change.accept(tree);
        return tree.toString();
    }

    private static void assertRejected(String json, String... fragments) {
        var e = assertThrows(DatasetFormatException.class, () -> DatasetManifest.fromJson(json, "x/manifest.json"));
        assertTrue(e.getMessage().startsWith("x/manifest.json: "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void invalidFieldsAreNamed() throws Exception {
        assertRejected(edit(t -> t.put("dtype", "bfloat16")), "dtype", "bfloat16");
        assertRejected(edit(t -> t.remove("scale_factor")), "scale_factor");
        assertRejected(edit(t -> t.put("count", 124)), "'count'", "124", "123");
        assertRejected(edit(t -> t.put("format", "parquet")), "'format'");
        assertRejected(edit(t -> t.put("version", 2)), "'version'", "2");
        assertRejected(edit(t -> t.put("channels", 0)), "'channels'");
        assertRejected(edit(t -> t.put("num_classes", 4)), "'class_names'", "3 names", "num_classes 4");
        assertRejected(edit(t -> t.put("scale_factor", -1.0)), "'scale_factor'");
        assertRejected(edit(t -> t.putNull("source")), "source");
        assertRejected(edit(t -> ((ObjectNode) t.get("shards").get(0)).put("file", "../x.parquet")), "'shards'");
        assertRejected(edit(t -> t.put("colour", "blue")), "colour");
        assertRejected("{not json", "not valid JSON");
    }

    @Test
    void missingManifestSaysTheDatasetIsIncomplete() throws Exception {
        String uri = dir.toUri().toString();
        var e = assertThrows(DatasetFormatException.class, () -> DatasetManifest.read(uri, new Configuration()));
        assertTrue(e.getMessage().contains("no manifest.json, the dataset is incomplete or still being written"),
                e.getMessage());
        assertTrue(e.getMessage().startsWith(uri), e.getMessage());
        assertThrows(DatasetFormatException.class, () -> LatentDataset.open(uri));
    }

    @Test
    void aDatasetDirectoryThatDoesNotExistIsSaidToNotExist() {
        // Issue 10 item 14: a typo in data.uri was reported as "incomplete or still being written".
        String uri = dir.resolve("no-such-dataset").toUri().toString();
        var e = assertThrows(DatasetFormatException.class, () -> DatasetManifest.read(uri, new Configuration()));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertTrue(!e.getMessage().contains("incomplete"), e.getMessage());
    }

    @Test
    void commitRefusesShardsThatDoNotExistAndWritesNoTemporaryLeftovers() throws Exception {
        String uri = dir.toUri().toString();
        var e = assertThrows(DatasetFormatException.class, () -> sample().commit(uri, new Configuration()));
        assertTrue(e.getMessage().contains("part-00000.parquet"), e.getMessage());
        Files.writeString(dir.resolve("part-00000.parquet"), "x");
        Files.writeString(dir.resolve("part-00001.parquet"), "x");
        sample().commit(uri, new Configuration());
        assertEquals(sample(), DatasetManifest.read(uri, new Configuration()));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith("_")));
        }
    }
}

package dev.ditspark.dataprep;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.Serializable;
import java.util.List;

/**
 * What one task (= one shard) did, written as {@code _tasks/task-NNNNN.json} after its shard is committed: a
 * re-run skips a task whose outcome exists with the same {@code inputHash} (same images, labels and options).
 *
 * @param shard    the shard file name, or null when no image of the task decoded
 * @param upscaled images smaller than the crop size, enlarged as ADM does (kept, listed for information)
 * @param warnings images kept but not decoded as Pillow would, and why (e.g. above Pillow's decompression-bomb
 *                 warning limit, read subsampled); null in outcome files written before the field existed
 */
public record TaskOutcome(@JsonProperty("task") int task,
                          @JsonProperty("input_hash") String inputHash,
                          @JsonProperty("shard") String shard,
                          @JsonProperty("rows") long rows,
                          @JsonProperty("bad_files") List<BadFile> badFiles,
                          @JsonProperty("upscaled") List<String> upscaled,
                          @JsonProperty("seconds") double seconds,
                          @JsonProperty("warnings") List<BadFile> warnings) implements Serializable {
    private static final long serialVersionUID = 2L;

    public TaskOutcome {
        warnings = warnings == null ? List.of() : warnings;
    }

    /** A file that was listed but could not be used, and why. */
    public record BadFile(@JsonProperty("path") String path, @JsonProperty("reason") String reason)
            implements Serializable {
        private static final long serialVersionUID = 1L;
    }
}

package dev.ditspark.dataprep;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * {@code _report.json} in the dataset folder (hidden from dataset readers by its "_"): what a {@code dit prepare}
 * run found and did. {@code bad_files} are the corrupt, truncated, non-image and unreadable files (skipped);
 * {@code stray_files} lie outside any class folder; {@code empty_classes} have no files but keep their label;
 * {@code warnings} are images kept but not decoded exactly as Pillow would (e.g. above Pillow's
 * decompression-bomb warning limit, read subsampled), with the reason.
 */
public record PrepareReport(@JsonProperty("input") String input,
                            @JsonProperty("output") String output,
                            @JsonProperty("image_size") int imageSize,
                            @JsonProperty("classes") int classes,
                            @JsonProperty("images_listed") long imagesListed,
                            @JsonProperty("images_written") long imagesWritten,
                            @JsonProperty("bad_files") List<TaskOutcome.BadFile> badFiles,
                            @JsonProperty("upscaled") List<String> upscaled,
                            @JsonProperty("stray_files") List<String> strayFiles,
                            @JsonProperty("empty_classes") List<String> emptyClasses,
                            @JsonProperty("shards") int shards,
                            @JsonProperty("shards_reused") int shardsReused,
                            @JsonProperty("seconds") double seconds,
                            @JsonProperty("images_per_second") double imagesPerSecond,
                            @JsonProperty("warnings") List<TaskOutcome.BadFile> warnings) {
    public static final String FILE_NAME = "_report.json";
}

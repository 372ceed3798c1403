package dev.ditspark.core.sample;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The finished chunks of a long sampling request, kept as it goes so a rerun resumes: {@code DIR/request.json}
 * describes the request (model, step, seed, sampler, guidance, labels, VAE) and {@code DIR/chunk-START-END.npz}
 * holds samples START..END-1 as {@link SampleImages#writeNpz} writes them (each written under a temporary name and
 * renamed, so a chunk file is complete or absent). A directory holding another request's chunks is emptied first.
 */
public final class SampleChunks {
    public static final String REQUEST = "request.json";
    private final Path dir;

    private SampleChunks(Path dir) {
        this.dir = dir;
    }

    /**
     * Opens (creating) {@code dir} for {@code request}; chunks of a different request there are deleted and
     * {@code log} told so.
     *
     * @throws IOException the directory cannot be created or written (the message names it)
     */
    public static SampleChunks open(Path dir, String request, Consumer<String> log) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(REQUEST);
        String old = null;
        try {
            old = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            // a new request
        }
        SampleChunks c = new SampleChunks(dir);
        if (old != null && !old.equals(request)) {
            long n = c.chunkFiles().count();
            if (n > 0) {
                log.accept("sample: " + n + " chunks in " + dir + " belong to another request (model, seed, "
                        + "sampler or labels differ); sampling afresh");
            }
            c.deleteChunks();
        }
        if (!request.equals(old)) {
            SampleImages.writeAtomically(file, out -> out.write(request.getBytes(StandardCharsets.UTF_8)));
        }
        return c;
    }

    /** The file of samples start..end-1. */
    public Path file(int start, int end) {
        return dir.resolve(String.format("chunk-%08d-%08d.npz", start, end));
    }

    /** Samples start..start+n-1 if that chunk is finished and readable with n samples; an unreadable one is deleted. */
    public Optional<SampleImages> read(int start, int n) throws IOException {
        Path f = file(start, start + n);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            SampleImages s = SampleImages.readNpz(f);
            if (s.count() == n) {
                return Optional.of(s);
            }
        } catch (IOException | RuntimeException e) {
            // unreadable: sample it again
        }
        Files.deleteIfExists(f);
        return Optional.empty();
    }

    /** Keeps samples start..start+images.count()-1. */
    public void write(int start, SampleImages images) throws IOException {
        images.writeNpz(file(start, start + images.count()));
    }

    /** Removes the chunks and the directory (once the whole request's output is written). */
    public void delete() throws IOException {
        deleteChunks();
        Files.deleteIfExists(dir.resolve(REQUEST));
        try (Stream<Path> rest = Files.list(dir)) {
            if (rest.findAny().isEmpty()) {
                Files.delete(dir);
            }
        }
    }

    private void deleteChunks() throws IOException {
        try (Stream<Path> files = chunkFiles()) {
            for (Path p : files.sorted(Comparator.naturalOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private Stream<Path> chunkFiles() throws IOException {
        return Files.list(dir).filter(p -> p.getFileName().toString().matches("chunk-\\d+-\\d+\\.npz(\\..*\\.tmp)?"));
    }
}

package dev.ditspark.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Inputs opened and outputs made writable before a command does any work, so a typo costs nothing: each failure
 * is an {@link IllegalArgumentException} naming the option and the path ("--vae vea.safetensors: no such file").
 */
final class Checks {
    private Checks() { }

    /** {@code path} is a readable regular file (a local one: a URI is refused, naming the option). */
    static Path inputFile(String option, Path path) {
        notUri(option, path, "this option takes a local file, not a URI; copy it here first");
        if (!Files.exists(path)) {
            throw new IllegalArgumentException(option + " " + path + ": no such file");
        }
        if (Files.isDirectory(path)) {
            throw new IllegalArgumentException(option + " " + path + ": is a directory, expected a file");
        }
        if (!Files.isReadable(path)) {
            throw new IllegalArgumentException(option + " " + path + ": cannot be read (permission denied)");
        }
        return path;
    }

    /**
     * A URI given to a java.nio Path option is refused by name: s3a://b/k arrives as s3a:/b/k, which would
     * otherwise be read as (or silently created as) a local directory "s3a:".
     */
    private static void notUri(String option, Path path, String advice) {
        String text = path.toString();
        if (text.matches("^[A-Za-z][A-Za-z0-9+.-]+:/.*")) {
            throw new IllegalArgumentException(option + " " + text.replaceFirst("^([A-Za-z][A-Za-z0-9+.-]+):/+", "$1://")
                    + ": " + advice);
        }
    }

    /** {@code dir} is (now) a directory this process can create files in. */
    static Path outputDirectory(String option, Path dir) {
        notUri(option, dir, "this option takes a local directory, not a URI");
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(option + " " + dir + ": is a file, expected a directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + dir + ": cannot create the directory ("
                    + DitCommand.message(e) + ")", e);
        }
        probe(option, dir, dir);
        return dir;
    }

    /** {@code file} can be written: not a directory, and its directory exists (created) and is writable. */
    static Path outputFile(String option, Path file) {
        notUri(option, file, "this option takes a local file, not a URI");
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(option + " " + file + ": is a directory, expected a file name");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (Files.exists(parent) && !Files.isDirectory(parent)) {
            throw new IllegalArgumentException(option + " " + file + ": " + parent + " is a file, not a directory");
        }
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + file + ": cannot create its directory ("
                    + DitCommand.message(e) + ")", e);
        }
        probe(option, file, parent);
        return file;
    }

    private static void probe(String option, Path named, Path dir) {
        try {
            Files.delete(Files.createTempFile(dir, ".dit-write-check", ".tmp"));
        } catch (IOException e) {
            throw new IllegalArgumentException(option + " " + named + ": cannot write in " + dir + " ("
                    + DitCommand.message(e) + ")", e);
        }
    }
}

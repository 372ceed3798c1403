package dev.ditspark.dataprep;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * ImageNet's training layout: {@code root/<class>/<image>}; label = index of the class folder in the sorted
 * folder names (as torchvision's ImageFolder). Every visible file under a class folder (sub-folders included)
 * is a candidate image: whether it decodes is found out later and reported, not guessed from its extension.
 * Hidden names (starting with "." or "_") are skipped. Files directly under the root belong to no class and
 * are reported as layout problems; an empty class folder keeps its label (so the mapping does not shift) and is
 * reported.
 */
public record ImageFolder(List<String> classNames, List<Entry> images, List<String> strayFiles,
                          List<String> emptyClasses) {

    /** One image to encode: its full URI and label. */
    public record Entry(String path, int label) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    public static ImageFolder list(String root, Configuration conf) throws IOException {
        FileSystem fs = new Path(root).getFileSystem(conf);
        Path dir = fs.makeQualified(new Path(root));
        FileStatus[] top;
        try {
            top = fs.listStatus(dir);
        } catch (FileNotFoundException e) {
            throw new IllegalArgumentException("--input " + root + ": no such folder", e);
        }
        Arrays.sort(top, Comparator.comparing(s -> s.getPath().getName()));
        List<String> classes = new ArrayList<>();
        List<String> stray = new ArrayList<>();
        for (FileStatus s : top) {
            if (hidden(s.getPath())) {
                continue;
            }
            if (s.isDirectory()) {
                classes.add(s.getPath().getName());
            } else {
                stray.add(s.getPath().toString());
            }
        }
        if (classes.isEmpty()) {
            throw new IllegalArgumentException("--input " + root + ": no class sub-folders (expected " + root
                    + "/<class>/<image>, ImageNet's layout)" + (stray.isEmpty() ? "" : "; found only files, e.g. "
                    + stray.get(0)));
        }
        List<Entry> images = new ArrayList<>();
        List<String> empty = new ArrayList<>();
        for (int label = 0; label < classes.size(); label++) {
            List<String> files = new ArrayList<>();
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(new Path(dir, classes.get(label)), true);
            while (it.hasNext()) {
                LocatedFileStatus f = it.next();
                if (!hiddenBelow(f.getPath(), dir)) {
                    files.add(f.getPath().toString());
                }
            }
            if (files.isEmpty()) {
                empty.add(classes.get(label));
            }
            files.sort(null);
            for (String f : files) {
                images.add(new Entry(f, label));
            }
        }
        return new ImageFolder(List.copyOf(classes), List.copyOf(images), List.copyOf(stray), List.copyOf(empty));
    }

    private static boolean hidden(Path p) {
        return p.getName().startsWith(".") || p.getName().startsWith("_");
    }

    private static boolean hiddenBelow(Path p, Path root) {
        for (Path q = p; q != null && !q.equals(root) && q.depth() > root.depth(); q = q.getParent()) {
            if (hidden(q)) {
                return true;
            }
        }
        return false;
    }
}

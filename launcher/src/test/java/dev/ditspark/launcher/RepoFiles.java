package dev.ditspark.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** The repository the tests run in: its root (conf/, k8s/), the reactor's modules and the root pom's properties. */
public final class RepoFiles {

    private RepoFiles() {
    }

    /** The reactor root: the nearest folder upwards from the working directory holding the parent pom. */
    public static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path pom = dir.resolve("pom.xml");
            if (Files.isRegularFile(pom) && read(pom).contains("<artifactId>dit-spark-parent</artifactId>")
                    && Files.isDirectory(dir.resolve("conf"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no dit-spark reactor root above " + Path.of("").toAbsolutePath());
    }

    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A {@code <properties>} value of the root pom, e.g. spark.version. */
    public static String pomProperty(String name) {
        Element props = child(pom(root().resolve("pom.xml")), "properties");
        Element value = props == null ? null : child(props, name);
        if (value == null) {
            throw new IllegalStateException("root pom.xml has no property " + name);
        }
        return value.getTextContent().trim();
    }

    /** The reactor's module folders, as listed in the root pom. */
    public static List<String> modules() {
        List<String> modules = new ArrayList<>();
        NodeList list = child(pom(root().resolve("pom.xml")), "modules").getElementsByTagName("module");
        for (int i = 0; i < list.getLength(); i++) {
            modules.add(list.item(i).getTextContent().trim());
        }
        return modules;
    }

    /** The artifactId a module's pom declares (not its parent's). */
    public static String artifactId(String module) {
        return child(pom(root().resolve(module).resolve("pom.xml")), "artifactId").getTextContent().trim();
    }

    private static Element pom(Path file) {
        try {
            return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile()).getDocumentElement();
        } catch (Exception e) {
            throw new IllegalStateException("cannot parse " + file, e);
        }
    }

    private static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }
}

package dev.ditspark.core.nn;

/**
 * A named node of the state_dict tree without parameters of its own (PyTorch's {@code nn.ModuleList} or
 * {@code nn.Sequential}: {@code blocks}, {@code adaLN_modulation}, {@code down_blocks}, ...): its children's keys
 * are prefixed with its name. It may also hold the parameters of a reference layer that its owner computes itself
 * (the {@code nn.Conv2d} of {@code PatchEmbed}, the {@code nn.Embedding} of {@code LabelEmbedder}).
 */
public final class ModuleList extends Module {
    /** Adds {@code module} under {@code name} (e.g. "1" for index 1 of an nn.Sequential) and returns it. */
    public <M extends Module> M add(String name, M module) {
        return child(name, module);
    }

    /** Adds {@code module} under its index. */
    public <M extends Module> M add(int index, M module) {
        return child(Integer.toString(index), module);
    }

    /**
     * Registers a trainable parameter {@code name} of {@code shape} on this node; the owning model supplies its
     * initialiser through {@link Module#initializer}. Throws IllegalStateException if the name is taken.
     */
    public Parameter addParameter(String name, long... shape) {
        return parameter(name, shape);
    }
}

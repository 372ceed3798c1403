package dev.ditspark.core.model;

/**
 * A named node of the state_dict tree without parameters of its own (PyTorch's {@code nn.ModuleList} or
 * {@code nn.Sequential}: {@code blocks}, {@code adaLN_modulation}, {@code down_blocks}, ...): its children's keys
 * are prefixed with its name.
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
}

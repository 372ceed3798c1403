package dev.ditspark.core.vae;

import dev.ditspark.core.model.Module;

/** A named node of the state_dict tree without parameters of its own ({@code down_blocks}, {@code resnets}, ...). */
final class ModuleList extends Module {
    <M extends Module> M add(String name, M module) {
        return child(name, module);
    }

    <M extends Module> M add(int index, M module) {
        return child(Integer.toString(index), module);
    }
}

package dev.ditspark.core.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Constants of the diffusion arithmetic as 0-d tensors filled on the operand's device ({@code torch.full}: the
 * value travels as a kernel argument, no host-to-device copy, no sync), owned by the operand's manager so they
 * live as long as the step that uses them (DJL's {@code Number} overloads free theirs before backward runs).
 */
final class DeviceConstants {
    private DeviceConstants() {
    }

    /** {@code v} as a 0-d tensor of {@code like}'s dtype and device (the float32 value of {@code v}, then cast). */
    static NDArray constant(NDArray like, double v) {
        return like.getManager().full(new Shape(), (float) v, like.getDataType());
    }
}

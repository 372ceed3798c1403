package dev.ditspark.sparkcommon;

import ai.djl.Device;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The device a Spark task runs its model on: the GPU Spark assigned to the task (resource {@code "gpu"}), else the
 * CPU. With one executor per node running one task per GPU (spark.executor.resource.gpu.amount = the node's GPUs,
 * spark.task.resource.gpu.amount=1, as conf/spark-defaults.conf sets), Spark gives each task of the executor a
 * different address, so the tasks of a node use different devices. Used by every job (training, prepare).
 */
public final class TaskGpu {
    /** Spark's resource name for GPUs (spark.task.resource.gpu.amount). */
    public static final String RESOURCE = "gpu";

    private TaskGpu() {
    }

    /** The device of the task running this thread; the CPU outside a task (driver code, tests). */
    public static Device current() {
        TaskContext ctx = TaskContext.get();
        return ctx == null ? Device.cpu() : of(ctx);
    }

    /** The device of task {@code ctx}: its one GPU, or the CPU when Spark assigned it none. */
    public static Device of(TaskContext ctx) {
        return fromAddresses(ctx.resourcesJMap().get(RESOURCE));
    }

    /**
     * The CUDA device named by a task's GPU resource. Addresses are CUDA ordinals as a discovery script prints
     * them (conf/gpu-discovery.sh); surrounding blanks are ignored.
     *
     * @param gpu the task's "gpu" resource, or null when it has none
     * @return {@code Device.gpu(address)}, or {@link Device#cpu()} for a null resource or no address
     * @throws IllegalArgumentException the task was given more than one GPU (a task uses one), or an address that
     *     is not a CUDA ordinal (a GPU UUID, say); the message names the setting to fix
     */
    public static Device fromAddresses(ResourceInformation gpu) {
        if (gpu == null || gpu.addresses().length == 0) {
            return Device.cpu();
        }
        String[] addresses = gpu.addresses();
        if (addresses.length > 1) {
            throw new IllegalArgumentException("spark.task.resource.gpu.amount: a dit task uses one GPU, this one was"
                    + " given " + addresses.length + " (" + String.join(",", addresses) + "); set it to 1");
        }
        String address = addresses[0].strip();
        try {
            int ordinal = Integer.parseInt(address);
            if (ordinal >= 0) {
                return Device.gpu(ordinal);
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("spark.executor.resource.gpu.discoveryScript: GPU address '" + addresses[0]
                + "' is not a CUDA device number (0, 1, ...); the script must print the ordinals nvidia-smi lists "
                + "(conf/gpu-discovery.sh does)");
    }
}

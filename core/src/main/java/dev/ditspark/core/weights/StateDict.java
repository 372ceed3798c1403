package dev.ditspark.core.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.Parameter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Moves a model's parameters to and from safetensors under the reference state_dict names, so the released
 * PyTorch weights load unchanged and PyTorch users can load ours.
 */
public final class StateDict {
    private StateDict() {
    }

    /**
     * Loads every parameter of {@code model} from the keys {@code prefix + name} of {@code file} onto
     * {@code manager}. F16 and BF16 tensors are converted to float32. Strict, like PyTorch's
     * {@code load_state_dict}: all missing, unexpected (under the prefix) and mis-shaped keys are checked
     * first and reported together; nothing is changed unless everything fits.
     *
     * @param ignored keys under the prefix that are not weights (fixture inputs, say); may be empty
     */
    public static void load(Module model, SafetensorsFile file, NDManager manager, String prefix, Set<String> ignored)
            throws IOException {
        Map<String, Parameter> params = model.namedParameters();
        List<String> missing = new ArrayList<>();
        List<String> misshapen = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String key = prefix + e.getKey();
            if (!file.contains(key)) {
                missing.add(key);
                continue;
            }
            long[] fileShape = file.info(key).shape();
            long[] modelShape = e.getValue().shape().getShape();
            if (!Arrays.equals(fileShape, modelShape)) {
                misshapen.add(key + ": file " + Arrays.toString(fileShape) + " vs model " + Arrays.toString(modelShape));
            }
        }
        Set<String> unexpected = new TreeSet<>();
        for (String key : file.names()) {
            if (key.startsWith(prefix) && !ignored.contains(key) && !params.containsKey(key.substring(prefix.length()))) {
                unexpected.add(key);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !misshapen.isEmpty()) {
            throw new WeightMismatchException(file.displayName(), missing, List.copyOf(unexpected), misshapen);
        }
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            e.getValue().set(read(file, prefix + e.getKey(), manager));
        }
    }

    /** Loads a file that holds exactly the model's keys. */
    public static void load(Module model, SafetensorsFile file, NDManager manager) throws IOException {
        load(model, file, manager, "", Set.of());
    }

    /** One tensor as float32 on {@code manager}. F32 bytes go straight from the file into the tensor. */
    public static NDArray read(SafetensorsFile file, String key, NDManager manager) throws IOException {
        TensorInfo info = file.info(key);
        Shape shape = new Shape(info.shape());
        return switch (info.dtype()) {
            case F32 -> manager.create(file.readRaw(key).order(ByteOrder.LITTLE_ENDIAN), shape, DataType.FLOAT32);
            case F16, BF16, F64 -> manager.create(file.readFloat32(key), shape);
            case I64, I32, I16, I8, U8, BOOL -> manager.create(file.readInt64(key), shape);
            default -> throw new WeightFormatException(file.displayName(), key, "unsupported dtype " + info.dtype());
        };
    }

    /**
     * Writes every parameter under its reference name as F32, F16 or BF16, tensor by tensor (a model of
     * any size streams through; DiT-XL/2 in F32 is 2.7 GB).
     */
    public static void write(Module model, OutputStream out, TensorDType dtype, Map<String, String> metadata)
            throws IOException {
        writer(model, dtype, metadata).write(out);
    }

    public static void write(Module model, Path path, TensorDType dtype, Map<String, String> metadata)
            throws IOException {
        writer(model, dtype, metadata).write(path);
    }

    private static SafetensorsWriter writer(Module model, TensorDType dtype, Map<String, String> metadata) {
        Map<String, NDArray> tensors = new java.util.LinkedHashMap<>();
        model.namedParameters().forEach((name, p) -> tensors.put(name, p.value()));
        return writer(tensors, dtype, metadata);
    }

    /**
     * A writer for named tensors (EMA weights, optimizer moments) in {@code dtype}; each tensor's bytes are
     * produced only when the writer reaches it.
     */
    public static SafetensorsWriter writer(Map<String, NDArray> tensors, TensorDType dtype, Map<String, String> metadata) {
        if (dtype != TensorDType.F32 && dtype != TensorDType.F16 && dtype != TensorDType.BF16) {
            throw new IllegalArgumentException("dtype: weights are written as F32, F16 or BF16, not " + dtype);
        }
        SafetensorsWriter w = new SafetensorsWriter(metadata);
        tensors.forEach((name, v) -> w.add(name, dtype, v.getShape().getShape(), () -> encode(v, dtype)));
        return w;
    }

    /** Reads every tensor of {@code file} whose key starts with {@code prefix} (prefix removed) onto {@code manager}. */
    public static Map<String, NDArray> readAll(SafetensorsFile file, String prefix, NDManager manager) throws IOException {
        Map<String, NDArray> out = new java.util.LinkedHashMap<>();
        for (String key : file.names()) {
            if (key.startsWith(prefix)) {
                out.put(key.substring(prefix.length()), read(file, key, manager));
            }
        }
        return out;
    }

    /** One tensor's bytes, produced only when the writer reaches it. */
    private static ByteBuffer encode(NDArray v, TensorDType dtype) {
        if (dtype == TensorDType.F32) {
            return littleEndianFloats(v);
        }
        float[] f = v.toFloatArray();
        ByteBuffer b = ByteBuffer.allocate(2 * f.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : f) {
            b.putShort(dtype == TensorDType.F16 ? TensorDType.floatToF16(x) : TensorDType.floatToBf16(x));
        }
        return b.flip();
    }

    private static ByteBuffer littleEndianFloats(NDArray v) {
        NDArray f = v.getDataType() == DataType.FLOAT32 ? v : v.toType(DataType.FLOAT32, false);
        ByteBuffer b = f.toByteBuffer();
        if (b.order() != ByteOrder.LITTLE_ENDIAN) {
            ByteBuffer le = ByteBuffer.allocate(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
            le.asFloatBuffer().put(b.asFloatBuffer());
            b = le;
        }
        return b;
    }
}

package dev.ditspark.core.config;

import java.util.Locale;

/**
 * The floating-point types users name in options and config fields (dit prepare --dtype, dit convert --dtype,
 * collective.allreduce_dtype), one spelling for all of them: PyTorch's {@code float32}, {@code float16},
 * {@code bfloat16}. The other common spellings are accepted too, in any case: {@code f32 fp32 float},
 * {@code f16 fp16 half}, {@code bf16} (safetensors' F32/F16/BF16, DDP's fp16/bf16 compression hooks).
 */
public enum FloatType {
    FLOAT32("float32"),
    FLOAT16("float16"),
    BFLOAT16("bfloat16");

    private final String id;

    FloatType(String id) {
        this.id = id;
    }

    /** The spelling shown in help, errors and files: float32, float16 or bfloat16. */
    public String id() {
        return id;
    }

    /**
     * The type {@code name} means, whichever spelling.
     *
     * @param field the option or config field, named in the error (e.g. {@code --dtype})
     * @throws IllegalArgumentException one line naming {@code field}, the accepted names and the value given
     */
    public static FloatType parse(String name, String field) {
        String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "float32", "f32", "fp32", "float" -> FLOAT32;
            case "float16", "f16", "fp16", "half" -> FLOAT16;
            case "bfloat16", "bf16" -> BFLOAT16;
            default -> throw new IllegalArgumentException(field + ": float32, float16 or bfloat16 (or f32/fp32, f16/fp16, "
                    + "bf16), got " + name);
        };
    }

    /**
     * {@link #parse}, restricted to {@code allowed} (a field that takes only some types).
     *
     * @throws IllegalArgumentException the name is unknown, or its type is not allowed here
     */
    public static FloatType parse(String name, String field, FloatType... allowed) {
        FloatType t = parse(name, field);
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < allowed.length; i++) {
            if (allowed[i] == t) {
                return t;
            }
            names.append(i == 0 ? "" : i == allowed.length - 1 ? " or " : ", ").append(allowed[i].id);
        }
        throw new IllegalArgumentException(field + ": " + names + ", got " + name);
    }
}

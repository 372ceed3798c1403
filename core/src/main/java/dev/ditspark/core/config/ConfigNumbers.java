package dev.ditspark.core.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.math.BigDecimal;

/**
 * Strict numbers for every numeric field of a run configuration, in one place: a whole-number field (Integer,
 * Long) refuses a fractional value ({@code train.global_batch=8.5}) instead of truncating it, accepts an integral
 * one written as a float ({@code 4.0e5}), and refuses a value out of its range or that is not a number; a real
 * field (Double) refuses text and booleans. Jackson adds the field's dotted path to the message
 * ({@link RunConfig#bind} prints "train.global_batch: must be a whole number, got 8.5").
 */
final class ConfigNumbers {
    private ConfigNumbers() { }

    static SimpleModule module() {
        SimpleModule m = new SimpleModule("dit-config-numbers");
        m.addDeserializer(Integer.class, new Whole<>(Integer.class, Integer.MIN_VALUE, Integer.MAX_VALUE));
        m.addDeserializer(Integer.TYPE, new Whole<>(Integer.class, Integer.MIN_VALUE, Integer.MAX_VALUE));
        m.addDeserializer(Long.class, new Whole<>(Long.class, Long.MIN_VALUE, Long.MAX_VALUE));
        m.addDeserializer(Long.TYPE, new Whole<>(Long.class, Long.MIN_VALUE, Long.MAX_VALUE));
        m.addDeserializer(Double.class, new Real());
        m.addDeserializer(Double.TYPE, new Real());
        return m;
    }

    private static final class Whole<T extends Number> extends StdScalarDeserializer<T> {
        private final Class<T> type;
        private final long min;
        private final long max;

        Whole(Class<T> type, long min, long max) {
            super(type);
            this.type = type;
            this.min = min;
            this.max = max;
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            BigDecimal v;
            if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                v = p.getDecimalValue();
            } else {
                return ctxt.reportInputMismatch(this, "must be a whole number, got %s", shown(p));
            }
            if (v.stripTrailingZeros().scale() > 0) {
                return ctxt.reportInputMismatch(this, "must be a whole number, got %s", p.getText());
            }
            if (v.compareTo(BigDecimal.valueOf(min)) < 0 || v.compareTo(BigDecimal.valueOf(max)) > 0) {
                return ctxt.reportInputMismatch(this, "%s is out of range (at most %d)", p.getText(), max);
            }
            long l = v.longValueExact();
            Number n; // not a ?: expression, which would unbox both arms to long
            if (type == Integer.class) {
                n = (int) l;
            } else {
                n = l;
            }
            return type.cast(n);
        }
    }

    private static final class Real extends StdScalarDeserializer<Double> {
        Real() {
            super(Double.class);
        }

        @Override
        public Double deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                return p.getDoubleValue();
            }
            if (t == JsonToken.VALUE_STRING) {
                // YAML reads 1e-4 (no dot) as a string; take any numeric text, refuse the rest.
                try {
                    return Double.valueOf(p.getText().trim());
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            return ctxt.reportInputMismatch(this, "must be a number, got %s", shown(p));
        }
    }

    private static String shown(JsonParser p) throws IOException {
        return p.currentToken() == JsonToken.VALUE_STRING ? "'" + p.getText() + "'" : p.getText();
    }
}

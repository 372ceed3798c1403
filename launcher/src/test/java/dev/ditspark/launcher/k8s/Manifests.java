package dev.ditspark.launcher.k8s;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.introspect.AnnotatedMember;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Kubernetes manifests read the way the API server would: fabric8's typed model for built-in kinds, a strict
 * record model for the Spark operator's SparkApplication spec, and a walk that finds every field the model did
 * not know (fabric8 keeps unknown or mistyped fields in {@code additionalProperties} instead of failing).
 */
final class Manifests {

    static final KubernetesSerialization KUBERNETES = new KubernetesSerialization();

    /** Strict binding for the operator's spec: unknown fields and scalar type changes fail, as the CRD schema does. */
    static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    static {
        for (CoercionInputShape shape : List.of(CoercionInputShape.Integer, CoercionInputShape.Float,
                CoercionInputShape.Boolean)) {
            STRICT.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
    }

    private Manifests() {
    }

    private static final Map<Path, List<HasMetadata>> PARSED = new ConcurrentHashMap<>();

    /** Every document of a YAML file (documents separated by ---), as typed objects; parsed once per test run. */
    static List<HasMetadata> load(Path file) {
        return PARSED.computeIfAbsent(file.toAbsolutePath().normalize(), Manifests::parse);
    }

    private static List<HasMetadata> parse(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            Object parsed = KUBERNETES.unmarshal(in);
            List<HasMetadata> docs = new ArrayList<>();
            if (parsed instanceof Collection<?> many) {
                for (Object o : many) {
                    docs.add((HasMetadata) o);
                }
            } else {
                docs.add((HasMetadata) parsed);
            }
            return List.copyOf(docs);
        } catch (IOException e) {
            throw new IllegalStateException(file + ": " + e.getMessage(), e);
        }
    }

    /** The one document of a file, of the given type. */
    static <T extends HasMetadata> T loadOne(Path file, Class<T> type) {
        List<HasMetadata> docs = load(file);
        if (docs.size() != 1 || !type.isInstance(docs.get(0))) {
            throw new AssertionError(file + ": expected one " + type.getSimpleName() + ", got " + docs);
        }
        return type.cast(docs.get(0));
    }

    /** A SparkApplication: fabric8 has no model for it, so its spec is bound to {@link SparkApplicationSpec}. */
    static SparkApplicationSpec sparkApplicationSpec(GenericKubernetesResource app) {
        Object spec = app.getAdditionalProperties().get("spec");
        try {
            return STRICT.convertValue(spec, SparkApplicationSpec.class);
        } catch (IllegalArgumentException e) {
            throw new AssertionError("SparkApplication " + app.getMetadata().getName() + ": " + e.getMessage(), e);
        }
    }

    /** Every field the typed model did not recognise, as "path: [names]"; empty when the object is clean. */
    static List<String> unknownFields(Object root) {
        List<String> found = new ArrayList<>();
        walk(root, "", (path, node) -> {
            if (node instanceof KubernetesResource && !(node instanceof GenericKubernetesResource)) {
                Map<?, ?> extra = additionalProperties(node);
                if (extra != null && !extra.isEmpty()) {
                    found.add((path.isEmpty() ? "." : path) + ": " + extra.keySet());
                }
            }
        });
        return found;
    }

    /** Every object of {@code type} under root, depth first. */
    static <T> List<T> findAll(Object root, Class<T> type) {
        List<T> found = new ArrayList<>();
        walk(root, "", (path, node) -> {
            if (type.isInstance(node)) {
                found.add(type.cast(node));
            }
        });
        return found;
    }

    /** Visits every object reachable through JSON properties (beans, records), lists and map values. */
    static void walk(Object node, String path, BiConsumer<String, Object> visitor) {
        if (node == null || node instanceof String || node instanceof Number || node instanceof Boolean
                || node instanceof Enum<?>) {
            return;
        }
        visitor.accept(path, node);
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> walk(v, path + "." + k, visitor));
            return;
        }
        if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                walk(list.get(i), path + "[" + i + "]", visitor);
            }
            return;
        }
        BeanDescription bean = STRICT.getSerializationConfig().introspect(STRICT.constructType(node.getClass()));
        for (BeanPropertyDefinition property : bean.findProperties()) {
            AnnotatedMember accessor = property.getAccessor();
            if (accessor != null && !property.getName().equals("additionalProperties")) {
                walk(accessor.getValue(node), path + "." + property.getName(), visitor);
            }
        }
    }

    private static Map<?, ?> additionalProperties(Object node) {
        try {
            Method m = node.getClass().getMethod("getAdditionalProperties");
            return (Map<?, ?>) m.invoke(node);
        } catch (NoSuchMethodException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}

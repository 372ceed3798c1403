package dev.ditspark.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A training run's configuration: YAML (conf/*.yaml) plus {@code section.field=value} overrides, bound once
 * to immutable records and validated at the edge. Every error names the dotted field.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record RunConfig(ModelSpec model, DataSpec data, TrainSpec train, CheckpointSpec checkpoint, SampleSpec sample,
        CollectiveSpec collective, EvalSpec eval) {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .registerModule(ConfigNumbers.module()); // whole-number fields refuse 8.5 rather than truncate it

    public RunConfig {
        ConfigException.require(model != null, "model", "section is missing");
        ConfigException.require(data != null, "data", "section is missing");
        ConfigException.require(checkpoint != null, "checkpoint", "section is missing");
        train = train != null ? train : YAML.convertValue(YAML.createObjectNode(), TrainSpec.class);
        sample = sample != null ? sample : SampleSpec.defaults();
        collective = collective != null ? collective : CollectiveSpec.defaults();
        eval = eval != null ? eval : EvalSpec.defaults();
        data.check(train); // data.streams against train.workers and train.global_batch
        dev.ditspark.core.model.DiTConfig dit = model.toDiTConfig(); // validates the shape now, not at step 1
        sample.checkAgainst(dit, sample.every() > 0 || eval.enabled());
        eval.checkAgainst(dit);
    }

    /** Reads {@code file} and applies overrides such as {@code train.max_steps=100}. */
    public static RunConfig load(Path file, List<String> overrides) {
        JsonNode tree;
        try {
            tree = YAML.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("config file " + file + ": not valid YAML: " + e.getMessage(), e);
        }
        if (tree == null || !tree.isObject()) {
            tree = YAML.createObjectNode();
        }
        return bind((ObjectNode) tree, overrides, file.toString());
    }

    /** Binds a tree (e.g. from a checkpoint's state.json) with overrides. */
    public static RunConfig bind(ObjectNode tree, List<String> overrides, String origin) {
        for (String o : overrides) {
            applyOverride(tree, o);
        }
        try {
            return YAML.treeToValue(tree, RunConfig.class);
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds() == null ? "" : " (known: " + e.getKnownPropertyIds().stream()
                    .map(Object::toString).sorted().collect(Collectors.joining(", ")) + ")";
            throw new ConfigException(path(e) + ": unknown field in " + origin + known, e);
        } catch (JsonMappingException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ConfigException ce) {
                throw ce;
            }
            throw new ConfigException(path(e) + ": " + e.getOriginalMessage() + " (in " + origin + ")", e);
        } catch (JsonProcessingException e) {
            throw new ConfigException(origin + ": " + e.getOriginalMessage(), e);
        }
    }

    /** The configuration as a tree (stored in checkpoints; holds no credentials by construction). */
    public JsonNode toTree() {
        return YAML.valueToTree(this);
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    /** {@code a.b=v}: the value is parsed as YAML (numbers, booleans, null), so types match the file's. */
    private static void applyOverride(ObjectNode tree, String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("override '" + override + "': expected section.field=value");
        }
        String[] path = override.substring(0, eq).trim().split("\\.");
        JsonNode value;
        try {
            value = YAML.readTree(override.substring(eq + 1));
        } catch (IOException e) {
            throw new ConfigException(override.substring(0, eq) + ": cannot parse value '" + override.substring(eq + 1) + "'");
        }
        ObjectNode node = tree;
        for (int i = 0; i < path.length - 1; i++) {
            JsonNode child = node.get(path[i]);
            if (child == null || !child.isObject()) {
                child = node.putObject(path[i]);
            }
            node = (ObjectNode) child;
        }
        node.set(path[path.length - 1], value == null || value.isMissingNode() ? YAML.nullNode() : value);
    }
}

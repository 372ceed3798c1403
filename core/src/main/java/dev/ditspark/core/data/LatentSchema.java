package dev.ditspark.core.data;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/**
 * The Parquet schema of a shard. The arrays are {@code binary} holding little-endian float16/float32
 * (row-major C×H×W), not {@code array<float>}: a list column is read value by value with repetition
 * levels, a binary one as one copy per row (about 7× faster, see ARCHITECTURE "Facts found").
 */
final class LatentSchema {
    private LatentSchema() {
    }

    static final String LABEL = "label";
    static final String MEAN = "mean";
    static final String STD = "std";
    static final String MEAN_FLIP = "mean_flip";
    static final String STD_FLIP = "std_flip";
    static final String SOURCE = "source";
    /** The four array columns, in the order a {@link LatentSubset} keeps them. */
    static final List<String> ARRAYS = List.of(MEAN, STD, MEAN_FLIP, STD_FLIP);

    /** Footer key-value metadata, so a shard alone says what it holds. */
    static final String META_DTYPE = "dit.dtype";
    static final String META_SHAPE = "dit.shape";

    static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
            message dit_latent {
              required int32 label;
              required binary mean;
              required binary std;
              required binary mean_flip;
              required binary std_flip;
              required binary source (STRING);
            }""");

    /** What a training reader needs: everything but {@code source}. */
    static final MessageType TRAINING_PROJECTION = new MessageType(SCHEMA.getName(),
            SCHEMA.getType(LABEL), SCHEMA.getType(MEAN), SCHEMA.getType(STD), SCHEMA.getType(MEAN_FLIP),
            SCHEMA.getType(STD_FLIP));

    static String shape(DatasetManifest m) {
        return m.channels() + "x" + m.height() + "x" + m.width();
    }

    /** Encodes {@link LatentRecord}s into {@link #SCHEMA}, checking each against the manifest's shape. */
    static final class RecordWriteSupport extends WriteSupport<LatentRecord> {
        private final DatasetManifest layout;
        private final int elements;
        private RecordConsumer out;

        RecordWriteSupport(DatasetManifest layout) {
            this.layout = layout;
            this.elements = layout.elementsPerArray();
        }

        @Override
        @SuppressWarnings("deprecation") // abstract in WriteSupport, so it must be implemented
        public WriteContext init(Configuration configuration) {
            return context();
        }

        @Override
        public WriteContext init(ParquetConfiguration configuration) {
            return context();
        }

        private WriteContext context() {
            Map<String, String> meta = new HashMap<>();
            meta.put(META_DTYPE, layout.dtype().id());
            meta.put(META_SHAPE, shape(layout));
            return new WriteContext(SCHEMA, meta);
        }

        @Override
        public void prepareForWrite(RecordConsumer recordConsumer) {
            this.out = recordConsumer;
        }

        @Override
        public String getName() {
            return "dit-latents";
        }

        @Override
        public void write(LatentRecord r) {
            // Validate and encode everything before the first field: a bad record must not leave a half row.
            if (r.label() < 0 || r.label() >= layout.numClasses()) {
                throw new IllegalArgumentException("label " + r.label() + " outside [0, " + layout.numClasses()
                        + ") (source " + r.source() + ")");
            }
            if (r.source() == null) {
                throw new IllegalArgumentException("record without a source");
            }
            byte[] mean = encode(r.mean(), MEAN, r);
            byte[] std = encode(r.std(), STD, r);
            byte[] meanFlip = encode(r.meanFlip(), MEAN_FLIP, r);
            byte[] stdFlip = encode(r.stdFlip(), STD_FLIP, r);
            out.startMessage();
            out.startField(LABEL, 0);
            out.addInteger(r.label());
            out.endField(LABEL, 0);
            binary(MEAN, 1, Binary.fromConstantByteArray(mean));
            binary(STD, 2, Binary.fromConstantByteArray(std));
            binary(MEAN_FLIP, 3, Binary.fromConstantByteArray(meanFlip));
            binary(STD_FLIP, 4, Binary.fromConstantByteArray(stdFlip));
            binary(SOURCE, 5, Binary.fromString(r.source()));
            out.endMessage();
        }

        private byte[] encode(float[] values, String field, LatentRecord r) {
            if (values == null || values.length != elements) {
                throw new IllegalArgumentException(field + " has " + (values == null ? "no" : values.length)
                        + " elements, the dataset's shape " + shape(layout) + " needs " + elements
                        + " (source " + r.source() + ")");
            }
            return layout.dtype().encode(values);
        }

        private void binary(String field, int index, Binary value) {
            out.startField(field, index);
            out.addBinary(value);
            out.endField(field, index);
        }
    }
}

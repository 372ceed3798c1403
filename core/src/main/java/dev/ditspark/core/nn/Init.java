package dev.ditspark.core.nn;

import java.util.random.RandomGenerator;

/** How a parameter is initialised (docs/model.md, "Initialisation"; the DiT's rules are in {@code DiT.initializer}); fills a row-major buffer. */
@FunctionalInterface
public interface Init {

    void fill(float[] data, long[] shape, RandomGenerator rng);

    Init ZEROS = (data, shape, rng) -> { };

    /**
     * Xavier-uniform over the (shape[0], rest) view: fan_out = shape[0], fan_in = the product of the other
     * dims. For a Linear that is (out, in); for the patch conv it is the reference's (D, C·p·p) view.
     */
    Init XAVIER_UNIFORM = (data, shape, rng) -> {
        long fanOut = shape[0];
        long fanIn = data.length / fanOut;
        double bound = Math.sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
    };

    static Init normal(double std) {
        return (data, shape, rng) -> {
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) (rng.nextGaussian() * std);
            }
        };
    }

    /** A fixed value computed from the shape alone (the sin-cos position embedding). */
    static Init fixed(float[] values) {
        return (data, shape, rng) -> System.arraycopy(values, 0, data, 0, data.length);
    }
}

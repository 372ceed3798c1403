package dev.ditspark.core.eval;

import ai.djl.nn.pooling.Pool;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.ditspark.core.nn.Functional;
import dev.ditspark.core.nn.Init;
import dev.ditspark.core.nn.Module;
import dev.ditspark.core.nn.Parameter;

/**
 * The pieces of the FID Inception-v3 (torchvision's Inception3 blocks with pytorch-fid's FID variants), under
 * pytorch-fid's state_dict names. Facts: tools/reference/inception_reference.py's docstring.
 */
final class InceptionBlocks {
    private InceptionBlocks() {
    }

    /**
     * Conv2d (no bias) → BatchNorm2d (eps 0.001, running statistics) → ReLU; keys {@code conv.weight},
     * {@code bn.weight}, {@code bn.bias}, {@code bn.running_mean}, {@code bn.running_var}. For inference the
     * BatchNorm is folded into the convolution once ({@link #fold}).
     */
    static final class BasicConv2d extends Module {
        static final double BN_EPS = 0.001;
        private final Parameter weight;
        private final Parameter gamma;
        private final Parameter beta;
        private final Parameter mean;
        private final Parameter var;
        private final Shape stride;
        private final Shape padding;
        private NDArray foldedWeight;
        private NDArray foldedBias;

        BasicConv2d(int in, int out, int kh, int kw, int stride, int ph, int pw) {
            Conv conv = child("conv", new Conv(in, out, kh, kw));
            this.weight = conv.weight;
            Bn bn = child("bn", new Bn(out));
            this.gamma = bn.weight;
            this.beta = bn.bias;
            this.mean = bn.runningMean;
            this.var = bn.runningVar;
            this.stride = new Shape(stride, stride);
            this.padding = new Shape(ph, pw);
        }

        BasicConv2d(int in, int out, int k) {
            this(in, out, k, k, 1, 0, 0);
        }

        BasicConv2d(int in, int out, int k, int stride, int padding) {
            this(in, out, k, k, stride, padding, padding);
        }

        /** W' = W·γ/√(var+ε) per output channel, b' = β − mean·γ/√(var+ε), on the parameters' manager. */
        void fold() {
            close();
            NDArray v = var.value();
            NDArray scale = gamma.value().div(v.add(Functional.scalar(v, BN_EPS)).sqrt());
            foldedWeight = weight.value().mul(scale.reshape(-1, 1, 1, 1));
            foldedBias = beta.value().sub(mean.value().mul(scale));
            scale.close();
        }

        void close() {
            if (foldedWeight != null) {
                foldedWeight.close();
                foldedBias.close();
                foldedWeight = null;
                foldedBias = null;
            }
        }

        NDArray forward(NDArray x) {
            if (foldedWeight == null) {
                throw new IllegalStateException("Inception weights not prepared: load them first");
            }
            NDArray y = ai.djl.nn.convolutional.Conv2d.conv2d(x, foldedWeight, foldedBias, stride, padding,
                    new Shape(1, 1), 1).singletonOrThrow();
            return Functional.relu(y);
        }
    }

    private static final class Conv extends Module {
        final Parameter weight;

        Conv(int in, int out, int kh, int kw) {
            weight = parameter("weight", Init.XAVIER_UNIFORM, out, in, kh, kw);
        }
    }

    private static final class Bn extends Module {
        private static final Init ONES = (data, shape, rng) -> java.util.Arrays.fill(data, 1f);
        final Parameter weight;
        final Parameter bias;
        final Parameter runningMean;
        final Parameter runningVar;

        Bn(int c) {
            weight = parameter("weight", ONES, c);
            bias = parameter("bias", Init.ZEROS, c);
            runningMean = parameter("running_mean", Init.ZEROS, c);
            runningVar = parameter("running_var", ONES, c);
        }
    }

    /** A block whose BasicConv2d children are all folded and closed together. */
    abstract static class Block extends Module {
        private final java.util.List<BasicConv2d> convs = new java.util.ArrayList<>();

        final BasicConv2d conv(String name, BasicConv2d c) {
            convs.add(c);
            return child(name, c);
        }

        final void fold() {
            convs.forEach(BasicConv2d::fold);
        }

        final void close() {
            convs.forEach(BasicConv2d::close);
        }

        abstract NDArray forward(NDArray x);
    }

    /**
     * 3×3 stride-1 average pooling that excludes the padding (the FID variant's count_include_pad=False). DJL
     * 0.36's {@code avgPool(..., countIncludePad=false)} still counts the padding (measured against PyTorch), so the
     * pooled values are divided by the same pooling of ones: the count of real inputs over 9 if the padding was
     * counted, exactly 1 if it was not, so the result is right either way.
     */
    static NDArray avgPool3(NDArray x) {
        Shape s = x.getShape();
        NDArray ones = x.getManager().ones(new Shape(1, 1, s.get(2), s.get(3)), x.getDataType());
        NDArray sum = Pool.avgPool2d(x, new Shape(3, 3), new Shape(1, 1), new Shape(1, 1), false, false);
        NDArray count = Pool.avgPool2d(ones, new Shape(3, 3), new Shape(1, 1), new Shape(1, 1), false, false);
        return sum.div(count);
    }

    static NDArray maxPool3(NDArray x, int stride, int pad) {
        return Pool.maxPool2d(x, new Shape(3, 3), new Shape(stride, stride), new Shape(pad, pad), false);
    }

    static NDArray cat(NDArray... parts) {
        return NDArrays.concat(new NDList(parts), 1);
    }

    /** Block A (Mixed_5b/5c/5d): 64 + 64 + 96 + poolFeatures channels at 35×35. */
    static final class A extends Block {
        private final BasicConv2d b1;
        private final BasicConv2d b5a;
        private final BasicConv2d b5b;
        private final BasicConv2d d1;
        private final BasicConv2d d2;
        private final BasicConv2d d3;
        private final BasicConv2d pool;

        A(int in, int poolFeatures) {
            b1 = conv("branch1x1", new BasicConv2d(in, 64, 1));
            b5a = conv("branch5x5_1", new BasicConv2d(in, 48, 1));
            b5b = conv("branch5x5_2", new BasicConv2d(48, 64, 5, 1, 2));
            d1 = conv("branch3x3dbl_1", new BasicConv2d(in, 64, 1));
            d2 = conv("branch3x3dbl_2", new BasicConv2d(64, 96, 3, 1, 1));
            d3 = conv("branch3x3dbl_3", new BasicConv2d(96, 96, 3, 1, 1));
            pool = conv("branch_pool", new BasicConv2d(in, poolFeatures, 1));
        }

        @Override
        NDArray forward(NDArray x) {
            return cat(b1.forward(x), b5b.forward(b5a.forward(x)), d3.forward(d2.forward(d1.forward(x))),
                    pool.forward(avgPool3(x)));
        }
    }

    /** Block B (Mixed_6a): 35×35×288 → 17×17×768. */
    static final class B extends Block {
        private final BasicConv2d b3;
        private final BasicConv2d d1;
        private final BasicConv2d d2;
        private final BasicConv2d d3;

        B(int in) {
            b3 = conv("branch3x3", new BasicConv2d(in, 384, 3, 2, 0));
            d1 = conv("branch3x3dbl_1", new BasicConv2d(in, 64, 1));
            d2 = conv("branch3x3dbl_2", new BasicConv2d(64, 96, 3, 1, 1));
            d3 = conv("branch3x3dbl_3", new BasicConv2d(96, 96, 3, 2, 0));
        }

        @Override
        NDArray forward(NDArray x) {
            return cat(b3.forward(x), d3.forward(d2.forward(d1.forward(x))), maxPool3(x, 2, 0));
        }
    }

    /** Block C (Mixed_6b..6e): factorised 7×7 convolutions with c7 inner channels, 768 channels at 17×17. */
    static final class C extends Block {
        private final BasicConv2d b1;
        private final BasicConv2d[] b7 = new BasicConv2d[3];
        private final BasicConv2d[] d7 = new BasicConv2d[5];
        private final BasicConv2d pool;

        C(int in, int c7) {
            b1 = conv("branch1x1", new BasicConv2d(in, 192, 1));
            b7[0] = conv("branch7x7_1", new BasicConv2d(in, c7, 1));
            b7[1] = conv("branch7x7_2", row(c7, c7));
            b7[2] = conv("branch7x7_3", column(c7, 192));
            d7[0] = conv("branch7x7dbl_1", new BasicConv2d(in, c7, 1));
            d7[1] = conv("branch7x7dbl_2", column(c7, c7));
            d7[2] = conv("branch7x7dbl_3", row(c7, c7));
            d7[3] = conv("branch7x7dbl_4", column(c7, c7));
            d7[4] = conv("branch7x7dbl_5", row(c7, 192));
            pool = conv("branch_pool", new BasicConv2d(in, 192, 1));
        }

        private static BasicConv2d row(int in, int out) {
            return new BasicConv2d(in, out, 1, 7, 1, 0, 3);
        }

        private static BasicConv2d column(int in, int out) {
            return new BasicConv2d(in, out, 7, 1, 1, 3, 0);
        }

        /** The 1×1 branch alone: for Mixed_6d it is the TF graph's "mixed_6/conv" (sFID's spatial features). */
        NDArray branch1x1(NDArray x) {
            return b1.forward(x);
        }

        @Override
        NDArray forward(NDArray x) {
            return forward(x, b1.forward(x));
        }

        /** As {@link #forward(NDArray)} with the 1×1 branch already computed. */
        NDArray forward(NDArray x, NDArray branch1x1) {
            NDArray b = x;
            for (BasicConv2d c : b7) {
                b = c.forward(b);
            }
            NDArray d = x;
            for (BasicConv2d c : d7) {
                d = c.forward(d);
            }
            return cat(branch1x1, b, d, pool.forward(avgPool3(x)));
        }
    }

    /** Block D (Mixed_7a): 17×17×768 → 8×8×1280. */
    static final class D extends Block {
        private final BasicConv2d b3a;
        private final BasicConv2d b3b;
        private final BasicConv2d[] b7 = new BasicConv2d[4];

        D(int in) {
            b3a = conv("branch3x3_1", new BasicConv2d(in, 192, 1));
            b3b = conv("branch3x3_2", new BasicConv2d(192, 320, 3, 2, 0));
            b7[0] = conv("branch7x7x3_1", new BasicConv2d(in, 192, 1));
            b7[1] = conv("branch7x7x3_2", new BasicConv2d(192, 192, 1, 7, 1, 0, 3));
            b7[2] = conv("branch7x7x3_3", new BasicConv2d(192, 192, 7, 1, 1, 3, 0));
            b7[3] = conv("branch7x7x3_4", new BasicConv2d(192, 192, 3, 2, 0));
        }

        @Override
        NDArray forward(NDArray x) {
            NDArray b = x;
            for (BasicConv2d c : b7) {
                b = c.forward(b);
            }
            return cat(b3b.forward(b3a.forward(x)), b, maxPool3(x, 2, 0));
        }
    }

    /**
     * Block E (Mixed_7b with average pooling, Mixed_7c with max pooling: pytorch-fid's FIDInceptionE_1/_2):
     * 320 + 768 + 768 + 192 = 2048 channels at 8×8.
     */
    static final class E extends Block {
        private final boolean maxPool;
        private final BasicConv2d b1;
        private final BasicConv2d b3;
        private final BasicConv2d b3a;
        private final BasicConv2d b3b;
        private final BasicConv2d d1;
        private final BasicConv2d d2;
        private final BasicConv2d d3a;
        private final BasicConv2d d3b;
        private final BasicConv2d pool;

        E(int in, boolean maxPool) {
            this.maxPool = maxPool;
            b1 = conv("branch1x1", new BasicConv2d(in, 320, 1));
            b3 = conv("branch3x3_1", new BasicConv2d(in, 384, 1));
            b3a = conv("branch3x3_2a", new BasicConv2d(384, 384, 1, 3, 1, 0, 1));
            b3b = conv("branch3x3_2b", new BasicConv2d(384, 384, 3, 1, 1, 1, 0));
            d1 = conv("branch3x3dbl_1", new BasicConv2d(in, 448, 1));
            d2 = conv("branch3x3dbl_2", new BasicConv2d(448, 384, 3, 1, 1));
            d3a = conv("branch3x3dbl_3a", new BasicConv2d(384, 384, 1, 3, 1, 0, 1));
            d3b = conv("branch3x3dbl_3b", new BasicConv2d(384, 384, 3, 1, 1, 1, 0));
            pool = conv("branch_pool", new BasicConv2d(in, 192, 1));
        }

        @Override
        NDArray forward(NDArray x) {
            NDArray b = b3.forward(x);
            NDArray d = d2.forward(d1.forward(x));
            NDArray p = maxPool ? maxPool3(x, 1, 1) : avgPool3(x);
            return cat(b1.forward(x), b3a.forward(b), b3b.forward(b), d3a.forward(d), d3b.forward(d), pool.forward(p));
        }
    }
}

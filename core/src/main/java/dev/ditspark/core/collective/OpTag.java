package dev.ditspark.core.collective;

import java.util.Locale;

/**
 * What a tcp ring operation is, as its agreement header carries it ({@link RingLink#checkAgreement}): the kind of
 * operation and the argument every rank must pass the same (allreduce: the wire dtype; broadcast: the root rank).
 * Ranks whose tags differ fail naming both, instead of reading each other's bytes as the wrong thing.
 */
record OpTag(Kind kind, int argument) {
    enum Kind {
        ALLREDUCE, BROADCAST, BARRIER
    }

    static OpTag allreduce(AllreduceDtype dtype) {
        return new OpTag(Kind.ALLREDUCE, dtype.ordinal());
    }

    static OpTag broadcast(int root) {
        return new OpTag(Kind.BROADCAST, root);
    }

    static OpTag barrier() {
        return new OpTag(Kind.BARRIER, 0);
    }

    /** The tag a peer sent, or null when its kind is not one of ours (a corrupt or foreign header). */
    static OpTag fromWire(int kind, int argument) {
        return kind >= 0 && kind < Kind.values().length ? new OpTag(Kind.values()[kind], argument) : null;
    }

    int kindOnWire() {
        return kind.ordinal();
    }

    /** "allreduce in bf16", "broadcast from rank 0", "barrier". */
    @Override
    public String toString() {
        return switch (kind) {
            case ALLREDUCE -> "allreduce in " + (argument >= 0 && argument < AllreduceDtype.values().length
                    ? AllreduceDtype.values()[argument].configName() : "dtype #" + argument);
            case BROADCAST -> "broadcast from rank " + argument;
            case BARRIER -> "barrier";
        };
    }

    static String describe(OpTag tag, int kind, int argument) {
        return tag != null ? tag.toString() : String.format(Locale.ROOT, "unknown operation %d/%d", kind, argument);
    }
}

package dev.ditspark.core.io;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A .npy array's header (NumPy's {@code numpy/lib/format.py}, versions 1.0 to 3.0): dtype string ({@code <f8},
 * {@code |u1}, ...) and shape, C order. The one reader and writer of .npy headers in the project: the .npz reader of
 * the evaluation ({@code dev.ditspark.core.eval.NpzFile}) and the sample sets ({@code dev.ditspark.core.sample.SampleImages})
 * both use it.
 *
 * @param descr the dtype string
 * @param shape the array's dimensions
 */
public record NpyHeader(String descr, long[] shape) {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    public long elements() {
        return Arrays.stream(shape).reduce(1, Math::multiplyExact);
    }

    /** Bytes per element, from the dtype string ({@code <f4}: 4). */
    public int itemSize() {
        return Integer.parseInt(descr.substring(2));
    }

    /**
     * Reads the magic, version and header dict of one .npy array, leaving {@code d} at its first data byte.
     *
     * @param what names the array in errors, e.g. "samples.npz: arr_0"
     * @throws IOException not a .npy array, an unreadable header, or Fortran order
     */
    public static NpyHeader read(DataInputStream d, String what) throws IOException {
        byte[] magic = new byte[8];
        d.readFully(magic);
        if ((magic[0] & 0xFF) != 0x93 || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw new IOException(what + ": not a .npy array");
        }
        int length = magic[6] == 1 ? Short.toUnsignedInt(Short.reverseBytes(d.readShort()))
                : Integer.reverseBytes(d.readInt());
        byte[] header = new byte[length];
        d.readFully(header);
        String dict = new String(header, StandardCharsets.ISO_8859_1);
        Matcher descr = DESCR.matcher(dict);
        Matcher fortran = FORTRAN.matcher(dict);
        Matcher shape = SHAPE.matcher(dict);
        if (!descr.find() || !fortran.find() || !shape.find()) {
            throw new IOException(what + ": unreadable .npy header " + dict.trim());
        }
        if (fortran.group(1).equals("True")) {
            throw new IOException(what + ": Fortran-order arrays are not supported");
        }
        long[] dims = Arrays.stream(shape.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty())
                .mapToLong(Long::parseLong).toArray();
        return new NpyHeader(descr.group(1), dims);
    }

    /** The .npy v1.0 header: magic, version, little-endian u16 length, a Python dict padded to 64 bytes with "\n". */
    public byte[] toBytes() {
        StringBuilder dims = new StringBuilder();
        for (long d : shape) {
            dims.append(d).append(", ");
        }
        String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int preamble = 10; // 6 magic + 2 version + 2 length
        int total = ((preamble + dict.length() + 1 + 63) / 64) * 64;
        String padded = dict + " ".repeat(total - preamble - dict.length() - 1) + "\n";
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) padded.length());
        b.put(padded.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }
}

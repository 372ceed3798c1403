package dev.ditspark.core.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ditspark.core.io.NpyHeader;
import dev.ditspark.core.sample.SampleImages;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one .npy header reader and writer ({@link NpyHeader}) against bytes numpy 2 writes
 * ({@code numpy.lib.format.write_array}); and the two .npz readers (this file's and the sample sets') on one file.
 */
class NpyHeaderTest {
    // numpy.lib.format.write_array(f, np.array([[1.5,-2],[3.25,4],[0.5,6]], dtype='<f4'), version=(1,0)) and (2,0)
    private static final String V1 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsIDIpLCB9ICAg"
            + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAUEAAAIBAAAAAPwAAwEA=";
    private static final String V2 = "k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywgMiksIH0g"
            + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAUEAAAIBAAAAAPwAAwEA=";
    private static final float[] VALUES = {1.5f, -2f, 3.25f, 4f, 0.5f, 6f};

    @Test
    void readsNumpysVersion1And2HeadersAndLeavesTheStreamAtTheData() throws IOException {
        for (String npy : new String[] {V1, V2}) {
            DataInputStream d = new DataInputStream(new ByteArrayInputStream(Base64.getDecoder().decode(npy)));
            NpyHeader h = NpyHeader.read(d, "x.npz: a");
            assertEquals("<f4", h.descr());
            assertArrayEquals(new long[] {3, 2}, h.shape());
            assertEquals(4, h.itemSize());
            byte[] data = d.readAllBytes();
            float[] got = new float[6];
            ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(got);
            assertArrayEquals(VALUES, got);
        }
    }

    @Test
    void writesTheHeaderNumpyWrites() {
        byte[] v1 = Base64.getDecoder().decode(V1);
        byte[] ours = new NpyHeader("<f4", new long[] {3, 2}).toBytes();
        assertArrayEquals(java.util.Arrays.copyOf(v1, 128), ours);
    }

    @Test
    void aBadArrayIsNamedInOneLine() {
        byte[] bad = "not numpy at all".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        IOException e = assertThrows(IOException.class,
                () -> NpyHeader.read(new DataInputStream(new ByteArrayInputStream(bad)), "x.npz: arr_0"));
        assertEquals("x.npz: arr_0: not a .npy array", e.getMessage());
    }

    @Test
    void bothReadersAgreeOnASampleSet(@TempDir Path dir) throws IOException {
        float[] nchw = new float[2 * 3 * 4 * 5];
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 4; y++) {
                    for (int x = 0; x < 5; x++) {
                        nchw[((n * 3 + c) * 4 + y) * 5 + x] = (n * 60 + c * 20 + y * 5 + x) / 120f * 2 - 1;
                    }
                }
            }
        }
        Path npz = dir.resolve("s.npz");
        SampleImages.fromPixels(nchw, 2, 3, 4, 5).withLabels(new long[] {3, 9}).writeNpz(npz);
        SampleImages back = SampleImages.readNpz(npz);
        assertArrayEquals(new long[] {3, 9}, back.labels().orElseThrow());
        try (NpzFile f = NpzFile.open(npz)) {
            assertArrayEquals(new long[] {2, 4, 5, 3}, f.checkImages("arr_0"));
            assertEquals("<i8", f.header("labels").descr());
            byte[][] streamed = new byte[1][];
            assertEquals(2, f.streamImages("arr_0", 2, (nhwc, count, height, width) -> streamed[0] = nhwc.clone()));
            int k = 0;
            for (int i = 0; i < 2; i++) {
                for (int y = 0; y < 4; y++) {
                    for (int x = 0; x < 5; x++) {
                        for (int c = 0; c < 3; c++) {
                            assertEquals(back.pixel(i, y, x, c), streamed[0][k++] & 0xFF);
                        }
                    }
                }
            }
        }
    }
}

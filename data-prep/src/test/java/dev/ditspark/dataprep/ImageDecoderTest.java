package dev.ditspark.dataprep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {

    @Test
    void rgbPngDecodesExactly() throws Exception {
        BufferedImage im = TestImages.random(7, 5, BufferedImage.TYPE_INT_RGB, 1);
        RgbImage rgb = ImageDecoder.decode(TestImages.encode(im, "png"));
        assertEquals(7, rgb.width());
        assertEquals(5, rgb.height());
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 7; x++) {
                int p = im.getRGB(x, y);
                assertEquals((p >> 16) & 0xFF, rgb.get(x, y, 0));
                assertEquals((p >> 8) & 0xFF, rgb.get(x, y, 1));
                assertEquals(p & 0xFF, rgb.get(x, y, 2));
            }
        }
    }

    /** Grey is replicated from the raw samples (getRGB would apply a linear-to-sRGB curve); alpha is dropped as PIL does. */
    @Test
    void greyIsReplicatedAndAlphaDropped() throws Exception {
        BufferedImage grey = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSamples(0, 0, 3, 2, 0, new int[] {0, 50, 100, 150, 200, 255});
        RgbImage g = ImageDecoder.decode(TestImages.encode(grey, "png"));
        assertEquals(50, g.get(1, 0, 0));
        assertEquals(50, g.get(1, 0, 1));
        assertEquals(200, g.get(1, 1, 2));

        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x10203040);
        argb.setRGB(1, 0, 0x00FF0000); // fully transparent red stays red
        RgbImage a = ImageDecoder.decode(TestImages.encode(argb, "png"));
        assertEquals(0x20, a.get(0, 0, 0));
        assertEquals(0x30, a.get(0, 0, 1));
        assertEquals(0x40, a.get(0, 0, 2));
        assertEquals(255, a.get(1, 0, 0));
    }

    @Test
    void brokenInputsFailWithAReason() throws Exception {
        byte[] jpeg = TestImages.encode(TestImages.random(64, 48, BufferedImage.TYPE_INT_RGB, 2), "jpg");
        var truncated = assertThrows(ImageDecoder.BadImageException.class,
                () -> ImageDecoder.decode(Arrays.copyOf(jpeg, jpeg.length / 2)));
        assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());
        var text = assertThrows(ImageDecoder.BadImageException.class,
                () -> ImageDecoder.decode("not an image".getBytes(StandardCharsets.UTF_8)));
        assertTrue(text.getMessage().contains("not an image"), text.getMessage());
        byte[] png = TestImages.encode(TestImages.random(16, 16, BufferedImage.TYPE_INT_RGB, 3), "png");
        assertThrows(ImageDecoder.BadImageException.class, () -> ImageDecoder.decode(Arrays.copyOf(png, png.length / 2)));
        assertThrows(ImageDecoder.BadImageException.class, () -> ImageDecoder.decode(new byte[0]));
    }

    /** Pillow's decompression-bomb rule on the header's size: above 2 × 89,478,485 pixels refused before any pixel. */
    @Test
    void aDecompressionBombIsRefusedByItsHeader() throws Exception {
        var e = assertThrows(ImageDecoder.BadImageException.class,
                () -> ImageDecoder.decode(TestImages.pngHeaderOnly(30000, 30000)));
        assertTrue(e.getMessage().startsWith("decompression bomb: 30000x30000 = 900,000,000 pixels is more than twice "
                + "Pillow's limit of 89,478,485"), e.getMessage());
        // Just under twice the limit is not a bomb: this one fails only for its missing rows.
        var truncated = assertThrows(ImageDecoder.BadImageException.class,
                () -> ImageDecoder.decode(TestImages.pngHeaderOnly(13000, 13000)));
        assertTrue(truncated.getMessage().startsWith("corrupt or truncated"), truncated.getMessage());
    }

    @Test
    void aWarnedImageIsSubsampledByAPowerOfTwoKeepingTwiceTheCrop() {
        assertEquals(1, ImageDecoder.subsampling(9000, 9000, 256)); // 81 M pixels: under the limit
        assertEquals(2, ImageDecoder.subsampling(12000, 12000, 256)); // 144 M → 36 M
        assertEquals(2, ImageDecoder.subsampling(13300, 13300, 256));
        assertEquals(1, ImageDecoder.subsampling(180_000, 600, 256)); // a short side of 600 cannot halve above 512
        assertEquals(2, ImageDecoder.subsampling(12000, 12000, 0)); // no crop size: halves until under the limit
    }
}

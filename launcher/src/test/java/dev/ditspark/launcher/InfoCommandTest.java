package dev.ditspark.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InfoCommandTest {

    @Test
    void tableListsAllTwelveConfigsWithTheSpecCounts() {
        DitRun r = DitRun.of("info");
        assertEquals(0, r.code(), r.err());
        String[] expected = {
            "DiT-S/2 32,963,360", "DiT-S/4 32,945,024", "DiT-S/8 33,148,160",
            "DiT-B/2 130,512,416", "DiT-B/4 130,475,648", "DiT-B/8 130,881,536",
            "DiT-L/2 458,102,816", "DiT-L/4 458,053,760", "DiT-L/8 458,594,816",
            "DiT-XL/2 675,129,632", "DiT-XL/4 675,074,432", "DiT-XL/8 675,683,072"};
        String squeezed = r.out().replaceAll(" +256 +", " ").replaceAll(" +", " ");
        for (String e : expected) {
            assertTrue(squeezed.contains(e), e + " in\n" + r.out());
        }
    }

    @Test
    void oneModelAt512Px() {
        DitRun r = DitRun.of("info", "--model", "DiT-XL/2", "--image-size", "512");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("tokens:                         1024"), r.out());
        assertTrue(r.out().contains("forward GMACs / image:          524.54"), r.out());
    }

    @Test
    void unknownModelIsOneClearLine() {
        DitRun r = DitRun.of("info", "--model", "DiT-Q/2");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("dit: --model: unknown model 'DiT-Q/2', expected one of DiT-S/2, "), r.err());
    }
}

package dev.ditspark.core.sample;

import java.util.Locale;

/**
 * How a log line names a sampler and its respaced steps: "DDIM 50 steps", "DDPM 250 steps", and the spacing text
 * when it says more than the count ("DDPM 50 steps (ddim50 spacing)", "DDPM 25 steps (10,10,5 spacing)"). One
 * wording for every line that reports sampling settings (the sample grids of a training run, dit sample's summary).
 */
public final class SamplingSteps {
    private SamplingSteps() {
    }

    /**
     * @param sampler "ddpm" or "ddim" (sample.sampler)
     * @param steps the respacing text (sample.steps): "250", "ddim50" or sections "10,10,5"
     *     ({@link dev.ditspark.core.diffusion.TimestepSpacing})
     * @return e.g. "DDIM 50 steps"; an unparseable {@code steps} is quoted as it is ("DDPM steps 'x'")
     */
    public static String describe(String sampler, String steps) {
        String name = sampler.toUpperCase(Locale.ROOT);
        String s = steps.trim();
        boolean ddimSpacing = s.startsWith("ddim");
        long count = 0;
        try {
            for (String section : (ddimSpacing ? s.substring(4) : s).split(",")) {
                count += Long.parseLong(section.trim());
            }
        } catch (NumberFormatException e) {
            return name + " steps '" + steps + "'";
        }
        boolean plain = ddimSpacing ? sampler.equals("ddim") : !s.contains(",");
        return name + " " + count + " steps" + (plain ? "" : " (" + s + " spacing)");
    }
}

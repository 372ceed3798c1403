package dev.ditspark.launcher;

import dev.ditspark.core.data.DatasetManifest;
import dev.ditspark.core.vae.VaeConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;

/**
 * {@code dit sample --vae} against the dataset the model was trained on: that dataset's manifest records the VAE
 * that encoded it (its name, latent channels, downsampling and scale factor). A VAE that differs in scale factor,
 * channels or downsampling decodes wrong images, so it is refused; one with another file name but the same
 * numbers gets a warning. When the manifest cannot be read (the dataset moved, no credentials here) one warning
 * says the check was skipped.
 */
final class VaeCheck {
    private VaeCheck() { }

    static void againstTrainingData(Path vae, VaeConfig c, String dataUri, PrintWriter err) {
        String where = dev.ditspark.core.config.Secrets.redact(dataUri) + "/" + DatasetManifest.FILE_NAME;
        DatasetManifest m;
        try {
            m = DatasetManifest.read(dataUri, new Configuration());
        } catch (Exception e) {
            err.println("dit: warning: --vae is not checked against the training data: cannot read " + where + " ("
                    + dev.ditspark.core.config.Secrets.redact(String.valueOf(e.getMessage())) + ")");
            err.flush();
            return;
        }
        if (m.isPixels()) {
            throw new IllegalArgumentException("--vae " + vae + ": the model was trained on pixels (" + where
                    + " has encoder '" + DatasetManifest.NO_ENCODER + "'); sample it without --vae");
        }
        String problem = dev.ditspark.core.train.TrainingSamples.mismatch(c, m, where); // as sample.vae is checked
        if (problem != null) {
            throw new IllegalArgumentException("--vae " + vae + ": " + problem);
        }
        if (!m.encoder().equals(vae.getFileName().toString())) {
            err.println("dit: warning: --vae " + vae.getFileName() + " is not the file name of the VAE the model's "
                    + "training data was encoded with ('" + m.encoder() + "' in " + where + ")"
                    + "; its scale factor, channels and downsampling match");
            err.flush();
        }
    }
}

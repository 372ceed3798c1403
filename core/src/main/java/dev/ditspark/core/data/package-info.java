/**
 * The prepared dataset as training reads it: the manifest, Parquet latent shards, a rank's share and its
 * deterministic epoch order, and the Fashion-MNIST files of the demo. See docs/prepare.md.
 */
package dev.ditspark.core.data;

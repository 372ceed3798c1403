/**
 * The offline Spark job behind {@code dit prepare}: images, ADM center crop, VAE encoding of each image and its
 * mirror, Parquet latent shards and a manifest. See docs/prepare.md.
 */
package dev.ditspark.dataprep;

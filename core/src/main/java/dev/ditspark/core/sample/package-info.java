/**
 * Sample generation: resumable chunks of samples, per-sample noise, PNG grids and {@code .npz} sample sets.
 */
package dev.ditspark.core.sample;

/**
 * Weight files: a streaming safetensors reader and writer (files over 2 GiB included) and the state_dict mapping
 * between files and a {@link dev.ditspark.core.nn.Module}.
 */
package dev.ditspark.core.weights;

/**
 * File formats shared by several packages that none of them owns: NumPy's .npy array header ({@link
 * dev.ditspark.core.io.NpyHeader}).
 */
package dev.ditspark.core.io;

/**
 * Training charts (loss, mse, vb, throughput) drawn with XChart from {@code metrics.jsonl}.
 */
package dev.ditspark.core.plot;

/**
 * The run configuration read from YAML ({@code model:}, {@code data:}, {@code train:}, {@code sample:},
 * {@code checkpoint:}, {@code collective:}), validated field by field so bad input gets one line naming the key, and
 * the redaction of secrets in URIs and options.
 */
package dev.ditspark.core.config;

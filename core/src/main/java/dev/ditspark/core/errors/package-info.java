/**
 * User errors and job failures: the one-line messages a user sees ({@code dit: ...}), how a failure inside a Spark
 * job is reduced to that line, and the watch that stops the other workers when one fails.
 */
package dev.ditspark.core.errors;

package dev.ditspark.sparkcommon;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * The driver's Hadoop configuration carried to the executors inside a task (the file system endpoints and
 * credential providers of hdfs:// and s3a://; spark.hadoop.* settings included). Values travel inside the task
 * and are never logged: {@link #toString()} gives only their number.
 */
public final class HadoopSettings implements Serializable {
    private static final long serialVersionUID = 1L;
    private final HashMap<String, String> values = new HashMap<>();

    /** A snapshot of every entry of {@code conf} (defaults and resources resolved now, on the driver). */
    public HadoopSettings(Configuration conf) {
        for (Map.Entry<String, String> e : conf) {
            values.put(e.getKey(), e.getValue());
        }
    }

    /** A new configuration holding exactly the snapshot's entries (no default resources loaded on the executor). */
    public Configuration toConfiguration() {
        Configuration conf = new Configuration(false);
        values.forEach(conf::set);
        return conf;
    }

    @Override
    public String toString() {
        return "HadoopSettings(" + values.size() + " entries)";
    }
}

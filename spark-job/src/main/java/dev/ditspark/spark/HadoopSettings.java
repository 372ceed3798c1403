package dev.ditspark.spark;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * The driver's Hadoop configuration carried to the executors (the file system endpoints and credential
 * providers of hdfs:// and s3a://). Values travel inside the task and are never logged.
 */
final class HadoopSettings implements Serializable {
    private static final long serialVersionUID = 1L;
    private final HashMap<String, String> values = new HashMap<>();

    HadoopSettings(Configuration conf) {
        for (Map.Entry<String, String> e : conf) {
            values.put(e.getKey(), e.getValue());
        }
    }

    Configuration toConfiguration() {
        Configuration conf = new Configuration(false);
        values.forEach(conf::set);
        return conf;
    }

    @Override
    public String toString() {
        return "HadoopSettings(" + values.size() + " entries)";
    }
}

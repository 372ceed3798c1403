package dev.ditspark.launcher.k8s;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.List;
import java.util.Map;

/**
 * The {@code spec} of the Spark operator's SparkApplication (sparkoperator.k8s.io/v1beta2), as far as our
 * manifests may use it, with the operator's JSON names (kubeflow/spark-operator,
 * api/v1beta2/sparkapplication_types.go: SparkApplicationSpec, DriverSpec, ExecutorSpec, SparkPodSpec, GPUSpec,
 * RestartPolicy). Bound strictly: a field missing here fails the test; add it after checking it in the operator's
 * API, not to make a typo pass.
 */
public record SparkApplicationSpec(
        String type,
        String sparkVersion,
        String mode,
        String image,
        String imagePullPolicy,
        List<String> imagePullSecrets,
        String mainClass,
        String mainApplicationFile,
        List<String> arguments,
        Map<String, String> sparkConf,
        Map<String, String> hadoopConf,
        String sparkConfigMap,
        String hadoopConfigMap,
        List<Volume> volumes,
        Driver driver,
        Executor executor,
        RestartPolicy restartPolicy,
        Long timeToLiveSeconds) {

    public record Driver(
            PodTemplateSpec template,
            Integer cores,
            String coreLimit,
            String coreRequest,
            String memory,
            String memoryOverhead,
            Gpu gpu,
            String image,
            List<EnvVar> env,
            List<EnvFromSource> envFrom,
            Map<String, String> labels,
            Map<String, String> annotations,
            List<VolumeMount> volumeMounts,
            Affinity affinity,
            List<Toleration> tolerations,
            Map<String, String> nodeSelector,
            String serviceAccount,
            String javaOptions,
            String priorityClassName) {
    }

    public record Executor(
            PodTemplateSpec template,
            Integer instances,
            Integer cores,
            String coreLimit,
            String coreRequest,
            String memory,
            String memoryOverhead,
            Gpu gpu,
            String image,
            List<EnvVar> env,
            List<EnvFromSource> envFrom,
            Map<String, String> labels,
            Map<String, String> annotations,
            List<VolumeMount> volumeMounts,
            Affinity affinity,
            List<Toleration> tolerations,
            Map<String, String> nodeSelector,
            String serviceAccount,
            String javaOptions,
            Boolean deleteOnTermination,
            String priorityClassName,
            Long terminationGracePeriodSeconds) {
    }

    /** GPUSpec: a device-plugin resource name and a count. */
    public record Gpu(String name, Long quantity) {
    }

    public record RestartPolicy(
            String type,
            Integer onSubmissionFailureRetries,
            Integer onFailureRetries,
            Long onSubmissionFailureRetryInterval,
            Long onFailureRetryInterval) {
    }
}

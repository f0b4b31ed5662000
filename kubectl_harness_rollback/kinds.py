"""Every API kind the plugin names, with what kubectl's RESTMapper knows of it: one table. Pure.

A kind's group, version, plural, short names and scope, how it keeps its revisions and how a
rollback restores it are written here once; the request layer's resources, the RBAC rules, the
re-apply scope, the readers and the workload registry derive theirs from this table. Adding a
workload kind is one line here and its adapter, workloads/<kind>.py (README: "Layout").
"""

from __future__ import annotations

from kubectl_harness_rollback.data_class import data_class

# How a rollback restores a workload kind.
TEMPLATE = "template"  # patch the pod template back to a revision's
SCALE = "scale"  # scale the release's own object back up (the kind keeps no revisions)


@data_class(frozen=True)
class Kind:
    """One API kind, as the RESTMapper maps it."""

    name: str  # the kind: "Deployment"
    group: str  # "" for the core group
    version: str
    plural: str  # the resource: "deployments"
    short_names: tuple[str, ...] = ()  # what `kubectl api-resources` lists: "deploy"
    namespaced: bool = True
    # The kind whose objects hold this kind's revisions (None: it keeps none).
    revisions: Kind | None = None
    restored_by: str | None = None  # TEMPLATE or SCALE for a workload a rollback restores; None otherwise

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.name.lower()

    @property
    def aliases(self) -> tuple[str, ...]:
        """What kubectl accepts for the kind, lowercase: the singular and plural resource names and
        the short names, alone or qualified by the group (`deployments.apps`) or by version and group
        (`deployment.v1.apps`)."""
        names = (self.singular, self.plural, *self.short_names)
        qualifiers = ("", f".{self.group}", f".{self.version}.{self.group}") if self.group else ("",)
        return tuple(name + qualifier for name in names for qualifier in qualifiers)


def _core(name: str, plural: str, *short: str, namespaced: bool = True) -> Kind:
    return Kind(name, "", "v1", plural, short, namespaced)


# -- workloads: what a rollback restores, in the order they are read and named --
CONTROLLER_REVISION = Kind("ControllerRevision", "apps", "v1", "controllerrevisions")
REPLICA_SET = Kind("ReplicaSet", "apps", "v1", "replicasets", ("rs",), restored_by=SCALE)
DEPLOYMENT = Kind("Deployment", "apps", "v1", "deployments", ("deploy",), revisions=REPLICA_SET, restored_by=TEMPLATE)
STATEFUL_SET = Kind("StatefulSet", "apps", "v1", "statefulsets", ("sts",), revisions=CONTROLLER_REVISION,
                    restored_by=TEMPLATE)
DAEMON_SET = Kind("DaemonSet", "apps", "v1", "daemonsets", ("ds",), revisions=CONTROLLER_REVISION,
                  restored_by=TEMPLATE)

# -- the core group --
NAMESPACE = _core("Namespace", "namespaces", "ns", namespaced=False)
CONFIG_MAP = _core("ConfigMap", "configmaps", "cm")
SECRET = _core("Secret", "secrets")
SERVICE = _core("Service", "services", "svc")
EVENT = _core("Event", "events", "ev")
SERVICE_ACCOUNT = _core("ServiceAccount", "serviceaccounts", "sa")
PERSISTENT_VOLUME_CLAIM = _core("PersistentVolumeClaim", "persistentvolumeclaims", "pvc")
PERSISTENT_VOLUME = _core("PersistentVolume", "persistentvolumes", "pv", namespaced=False)
POD = _core("Pod", "pods", "po")
REPLICATION_CONTROLLER = _core("ReplicationController", "replicationcontrollers", "rc")
RESOURCE_QUOTA = _core("ResourceQuota", "resourcequotas", "quota")
LIMIT_RANGE = _core("LimitRange", "limitranges", "limits")
NODE = _core("Node", "nodes", "no", namespaced=False)

# -- other groups a Harness release carries --
JOB = Kind("Job", "batch", "v1", "jobs")
CRON_JOB = Kind("CronJob", "batch", "v1", "cronjobs", ("cj",))
HORIZONTAL_POD_AUTOSCALER = Kind("HorizontalPodAutoscaler", "autoscaling", "v2", "horizontalpodautoscalers", ("hpa",))
POD_DISRUPTION_BUDGET = Kind("PodDisruptionBudget", "policy", "v1", "poddisruptionbudgets", ("pdb",))
INGRESS = Kind("Ingress", "networking.k8s.io", "v1", "ingresses", ("ing",))
NETWORK_POLICY = Kind("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies", ("netpol",))
DEPLOYMENT_CONFIG = Kind("DeploymentConfig", "apps.openshift.io", "v1", "deploymentconfigs", ("dc",))

# -- RBAC --
RBAC_GROUP = "rbac.authorization.k8s.io"
ROLE = Kind("Role", RBAC_GROUP, "v1", "roles")
ROLE_BINDING = Kind("RoleBinding", RBAC_GROUP, "v1", "rolebindings")
CLUSTER_ROLE = Kind("ClusterRole", RBAC_GROUP, "v1", "clusterroles", namespaced=False)
CLUSTER_ROLE_BINDING = Kind("ClusterRoleBinding", RBAC_GROUP, "v1", "clusterrolebindings", namespaced=False)


# -- cluster-scoped kinds a release may carry (a rollback refuses to re-apply them) --
def _cluster(name: str, group: str, version: str, plural: str, *short: str) -> Kind:
    return Kind(name, group, version, plural, short, namespaced=False)


_ADMISSION = "admissionregistration.k8s.io"
CUSTOM_RESOURCE_DEFINITION = _cluster("CustomResourceDefinition", "apiextensions.k8s.io", "v1",
                                      "customresourcedefinitions", "crd", "crds")
MUTATING_WEBHOOK_CONFIGURATION = _cluster("MutatingWebhookConfiguration", _ADMISSION, "v1",
                                          "mutatingwebhookconfigurations")
VALIDATING_WEBHOOK_CONFIGURATION = _cluster("ValidatingWebhookConfiguration", _ADMISSION, "v1",
                                            "validatingwebhookconfigurations")
VALIDATING_ADMISSION_POLICY = _cluster("ValidatingAdmissionPolicy", _ADMISSION, "v1", "validatingadmissionpolicies")
VALIDATING_ADMISSION_POLICY_BINDING = _cluster("ValidatingAdmissionPolicyBinding", _ADMISSION, "v1",
                                               "validatingadmissionpolicybindings")
MUTATING_ADMISSION_POLICY = _cluster("MutatingAdmissionPolicy", _ADMISSION, "v1beta1", "mutatingadmissionpolicies")
MUTATING_ADMISSION_POLICY_BINDING = _cluster("MutatingAdmissionPolicyBinding", _ADMISSION, "v1beta1",
                                             "mutatingadmissionpolicybindings")
API_SERVICE = _cluster("APIService", "apiregistration.k8s.io", "v1", "apiservices")
STORAGE_CLASS = _cluster("StorageClass", "storage.k8s.io", "v1", "storageclasses", "sc")
CSI_DRIVER = _cluster("CSIDriver", "storage.k8s.io", "v1", "csidrivers")
VOLUME_ATTACHMENT = _cluster("VolumeAttachment", "storage.k8s.io", "v1", "volumeattachments")
PRIORITY_CLASS = _cluster("PriorityClass", "scheduling.k8s.io", "v1", "priorityclasses", "pc")
RUNTIME_CLASS = _cluster("RuntimeClass", "node.k8s.io", "v1", "runtimeclasses")
INGRESS_CLASS = _cluster("IngressClass", "networking.k8s.io", "v1", "ingressclasses")
FLOW_SCHEMA = _cluster("FlowSchema", "flowcontrol.apiserver.k8s.io", "v1", "flowschemas")
PRIORITY_LEVEL_CONFIGURATION = _cluster("PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io", "v1",
                                        "prioritylevelconfigurations")
CERTIFICATE_SIGNING_REQUEST = _cluster("CertificateSigningRequest", "certificates.k8s.io", "v1",
                                       "certificatesigningrequests", "csr")
# -- reviews: what the API server says of the user --
SELF_SUBJECT_ACCESS_REVIEW = _cluster("SelfSubjectAccessReview", "authorization.k8s.io", "v1",
                                      "selfsubjectaccessreviews")
SELF_SUBJECT_REVIEW = _cluster("SelfSubjectReview", "authentication.k8s.io", "v1", "selfsubjectreviews")
POD_SECURITY_POLICY = _cluster("PodSecurityPolicy", "policy", "v1beta1", "podsecuritypolicies", "psp")

TABLE: tuple[Kind, ...] = tuple(value for value in dict(globals()).values() if isinstance(value, Kind))
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in TABLE}
# The kinds a rollback restores, one adapter each in workloads/, in the order they are read and named:
# those keeping revisions first, then those restored by scale, each group in the table's order.
WORKLOADS: tuple[Kind, ...] = tuple(sorted((k for k in TABLE if k.restored_by), key=lambda k: k.revisions is None))
WORKLOAD_NAMES: tuple[str, ...] = tuple(kind.name for kind in WORKLOADS)
# The kinds that hold the workloads' revisions (a Deployment's ReplicaSets, ControllerRevisions).
REVISION_KINDS: tuple[Kind, ...] = tuple(dict.fromkeys(kind.revisions for kind in WORKLOADS if kind.revisions))
# The workload kinds whose every object may be a release's workload, which `list` lists whole; a
# workload kind that also holds another's revisions (ReplicaSet) is a release's only when bare.
RELEASE_WORKLOADS: tuple[Kind, ...] = tuple(kind for kind in WORKLOADS if kind not in REVISION_KINDS)
# Kinds the API server answers a create of but keeps no object of.
REVIEWS: tuple[Kind, ...] = (SELF_SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_REVIEW)
# The kinds whose objects live outside any namespace.
CLUSTER_SCOPED: tuple[Kind, ...] = tuple(kind for kind in TABLE if not kind.namespaced and kind not in REVIEWS)


def named(name: str) -> Kind | None:
    """The kind of that exact name (as an object's `kind` field spells it); None if not in the table."""
    return BY_NAME.get(name)

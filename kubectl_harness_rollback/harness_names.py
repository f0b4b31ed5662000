"""Every label, annotation and data key name Harness (and this plugin) reads or writes.

One place, so that a reader who meets `harness.io/infra` in the cluster finds here what it means
and every module that uses it. Pure constants: no imports.
"""

# -- identity annotations: who deployed a revision (the Deployment controller copies a
# -- Deployment's annotations onto the ReplicaSet of each revision) --------------------------
WORKFLOW_ID = "harness.io/workflow-id"
SERVICE_ID = "harness.io/service"
INFRA_ID = "harness.io/infra"
CLUSTER_NAME = "harness.io/cluster-name"
RELEASE_NUMBER = "harness.io/release-number"
RELEASE_STATUS = "harness.io/release-status"

# -- labels on workloads ---------------------------------------------------------------------
RELEASE_NAME_LABEL = "harness.io/release-name"  # the release a workload belongs to
COLOR_LABEL = "harness.io/color"  # blue | green, on blue/green pods and Service selectors
CANARY_TRACK_LABEL = "harness.io/track"  # "canary" on a canary workload
CANARY_TRACK_VALUE = "canary"
# The canary workload Harness deploys beside the stable one is named `<name>-canary`, and so are its
# HPA, PDB and (declarative) ConfigMaps and Secrets (K8sCanaryBaseHandler).
CANARY_SUFFIX = "-canary"
# A custom resource Harness manages as a workload (annotation "true"); no rollback here restores it.
MANAGED_WORKLOAD_ANNOTATION = "harness.io/managed-workload"

# -- blue/green Services ---------------------------------------------------------------------
PRIMARY_SERVICE_ANNOTATION = "harness.io/primary-service"
STAGE_SERVICE_ANNOTATION = "harness.io/stage-service"

# -- the legacy release history: a ConfigMap or Secret named after the release ----------------
HISTORY_KEY = "releaseHistory"  # YAML, gzip+base64 when compressed
COMPRESSED_KEY = "isReleaseHistoryCompressed"

# -- declarative release Secrets: `harness.release.<release name>.<N>`, one per release -------
RELEASE_SECRET_TYPE = "harness.io/release/v2"
SECRET_NAME_PREFIX = "harness.release."
RELEASE_KEY = "release"  # data key: gzip of the release's multi-document YAML
SECRET_OWNER_LABEL = "owner"
SECRET_OWNER_VALUE = "harness"
LABEL_RELEASE = "release"
LABEL_RELEASE_NUMBER = "release-number"
LABEL_STATUS = "status"
LABEL_COLOR = "color"
LABEL_BG_ENVIRONMENT = "harness.io/bg-environment"  # primary | stage

# -- written by this plugin ------------------------------------------------------------------
# The audit record a rollback leaves on each workload it changes (JSON: by, at, release,
# fromRelease, toRelease, revisions {"deployment/web": {from, to, images}}). A second run reads it.
LAST_ROLLBACK_ANNOTATION = "harness.io/last-rollback"
# kubectl's own record of why a workload changed (`--record`): the Deployment controller copies it
# onto the ReplicaSet, where `kubectl rollout history` (CHANGE-CAUSE) and k9s read it.
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"

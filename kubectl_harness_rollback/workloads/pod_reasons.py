"""Why a workload is not steady: its pods' reasons and its Warning Events, counted (pure: dicts in, view out).

What `kubectl get pods` and `kubectl describe` would show an on-call admin, folded into one view:
the containers' waiting reasons (CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
CreateContainerConfigError, ...), a pod the scheduler cannot place, a pod running but not Ready,
the restarts, and the Warning Events of the workload or its ReplicaSet (FailedCreate: quota
exceeded, admission denied, ...). The reads are the caller's (diagnosis.py).
"""

from __future__ import annotations

from collections import Counter

from kubectl_harness_rollback.display import shown

# Longest Event message shown: a quota or admission message can run to a paragraph.
MESSAGE_CHARS = 160


def _container_reason(status: dict) -> str | None:
    state = status.get("state") or {}
    if state.get("waiting"):
        return state["waiting"].get("reason") or "Waiting"
    terminated = state.get("terminated")
    if terminated and terminated.get("exitCode", 0) != 0:
        return terminated.get("reason") or f"exit code {terminated.get('exitCode')}"
    return None


def _condition(pod: dict, kind: str) -> dict:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return {}


def _pod_reason(pod: dict) -> str | None:
    """The one reason a pod is not Ready, as the STATUS column of `kubectl get pods` would name it;
    None for a Ready pod."""
    status = pod.get("status") or {}
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    containers = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    for container in containers:
        reason = _container_reason(container)
        if reason:
            return reason
    if _condition(pod, "Ready").get("status") == "True":
        return None
    scheduled = _condition(pod, "PodScheduled")
    if scheduled.get("status") == "False":
        return scheduled.get("reason") or "Unschedulable"
    if status.get("phase") == "Running":
        return "Running, not ready"
    return status.get("phase") or "Pending"


def _last_exit(pods: list[dict]) -> str | None:
    """The last termination of a restarted container, `exit 1 (Error)`: why it crash-loops."""
    for pod in pods:
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (container.get("lastState") or {}).get("terminated")
            if terminated:
                code, reason = terminated.get("exitCode"), terminated.get("reason")
                return f"exit {code}" + (f" ({reason})" if reason else "")
    return None


def _event_count(event: dict) -> int:
    series = event.get("series") or {}
    return int(series.get("count") or event.get("count") or 1)


def _message(text: object) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 3] + "..."


def reasons(pods: list[dict], events: list[dict]) -> dict:
    """{pods, ready, reasons: [{reason, count}], restarts, lastExit, events: [{reason, count, message}],
    logsPod}. Reasons most frequent first (then by name); `logsPod` names a pod worth `kubectl logs`."""
    ordered = sorted(pods, key=lambda pod: (pod.get("metadata") or {}).get("name") or "")
    found = [(pod, _pod_reason(pod)) for pod in ordered]
    counted = Counter(reason for _, reason in found if reason)
    restarts = sum(int(c.get("restartCount") or 0) for pod in ordered
                   for c in (pod.get("status") or {}).get("containerStatuses") or [])
    failing = [pod for pod, reason in found if reason]
    restarted = [pod for pod in failing if any(int(c.get("restartCount") or 0)
                                               for c in (pod.get("status") or {}).get("containerStatuses") or [])]
    warned: dict[str, list] = {}
    for event in events:
        if event.get("type") != "Warning":
            continue
        reason = event.get("reason") or "Warning"
        entry = warned.setdefault(reason, [0, "", ""])
        entry[0] += _event_count(event)
        when = event.get("lastTimestamp") or event.get("eventTime") or ""
        if when >= entry[2]:  # the latest message of that reason
            entry[1], entry[2] = _message(event.get("message")), when
    logs = restarted or failing
    return {
        "pods": len(ordered),
        "ready": len(ordered) - len(failing),
        "reasons": [{"reason": reason, "count": count}
                    for reason, count in sorted(counted.items(), key=lambda item: (-item[1], item[0]))],
        "restarts": restarts,
        "lastExit": _last_exit(restarted),
        "events": [{"reason": reason, "count": count, "message": message}
                   for reason, (count, message, _) in sorted(warned.items(), key=lambda item: (-item[1][0], item[0]))],
        "logsPod": (logs[0].get("metadata") or {}).get("name") if logs else None,
    }


def summary(view: dict) -> str:
    """One line: `2 of 2 pods not ready: 2× CrashLoopBackOff; 14 restarts, last exit 1 (Error)`."""
    if not view["pods"]:
        parts = ["no pods"]
    else:
        not_ready = view["pods"] - view["ready"]
        parts = [f"{not_ready} of {view['pods']} pods not ready" + (": " if view["reasons"] else "")
                 + ", ".join(f"{r['count']}× {shown(r['reason'])}" for r in view["reasons"])]
    if view["restarts"]:
        parts.append(f"{view['restarts']} restart{'s' if view['restarts'] != 1 else ''}"
                     + (f", last {view['lastExit']}" if view["lastExit"] else ""))
    parts += [f"{e['count']}× {shown(e['reason'])}: {shown(e['message'])}" for e in view["events"]]
    return "; ".join(parts)

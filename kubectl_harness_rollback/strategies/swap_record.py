"""The last blue/green swap-back: written on the primary Service with the swap, read back here (pure).

A blue/green rollback changes no workload and, like Harness's swap, no release's status: what says
it happened is the `harness.io/last-rollback` annotation it writes on the primary Service in the
same request that swaps its selector back (who, when, from which release and color to which).
The Service is where it survives: Harness's next swap replaces the Service it read with only the
selector changed (K8sSwapServiceSelectorsBaseHandler.swapServiceSelectors), and its next stage
deploy drops the stage color's releases from the legacy history (K8sBGBaseHandler.cleanupForBlueGreen),
so a mark on the release record would go with them.
"""

from __future__ import annotations

from kubectl_harness_rollback import audit_record
from kubectl_harness_rollback.data_class import data_class


@data_class(frozen=True)
class SwapBack:
    """One swap-back, as the primary Service records it."""

    release_name: str | None
    service: str  # the primary Service that carries the record
    by: str | None
    at: str | None
    from_release: int | None  # the release swapped out of primary
    to_release: int | None
    from_color: str | None  # the color primary routed before (None: written before colors were recorded)
    to_color: str | None  # the color primary routes after

    def view(self) -> dict:
        """`swapBack` of `status -o json` and `list -o json`, `swappedBack` of `history -o json`."""
        return {"service": self.service, "by": self.by, "at": self.at, "fromRelease": self.from_release,
                "toRelease": self.to_release, "fromColor": self.from_color, "toColor": self.to_color}


def read(service: str, annotations: dict | None) -> SwapBack | None:
    """The swap-back the Service's annotation records; None when there is none or it is unreadable."""
    record = audit_record.read(annotations)
    if record is None:
        return None
    text, number = audit_record.text, audit_record.number
    return SwapBack(text(record.get("release")), service, text(record.get("by")), text(record.get("at")),
                    number(record.get("fromRelease")), number(record.get("toRelease")),
                    text(record.get("fromColor")), text(record.get("toColor")))


def in_effect(record: SwapBack, primary_color: str | None, latest: int | None) -> bool:
    """True while nothing has moved since: no release was deployed after the one swapped out, and
    the primary Service still routes the color the swap-back restored (a record written before
    colors were recorded is judged by the release alone)."""
    if record.from_release is None or latest != record.from_release:
        return False
    return record.to_color is None or record.to_color == primary_color


def already_done(record: SwapBack) -> str:
    """The reason a re-run does nothing: who swapped back, when, and what."""
    return (f"already rolled back: {record.by or 'someone'} swapped service/{record.service} back from "
            f"{record.from_color or 'the failed color'} to {record.to_color or 'the stage color'} at "
            f"{record.at or 'an unknown time'} (release {_or(record.from_release)} → {_or(record.to_release)}); "
            "nothing to do")


def _or(number: int | None) -> str:
    return "?" if number is None else str(number)

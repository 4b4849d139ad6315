"""Monitoring sources: one small adapter per kind of system, behind ``base.Source``.

A source per VIM account (by the account's type) is started and restarted with the account
by ``nfvo.monitoring.manager``; the Alertmanager webhook is a source without a VIM account.
"""

from __future__ import annotations

# VIM type -> "module:class" of the source started for each account of that type (imported
# only when an account of that type exists)
SOURCE_CLASSES: dict[str, str] = {
    "sim": "nfvo.monitoring.sources.sim:SimSource",
    "openstack": "nfvo.monitoring.sources.openstack:OpenStackSource",
    "kubernetes": "nfvo.monitoring.sources.kubernetes:KubernetesSource",
}

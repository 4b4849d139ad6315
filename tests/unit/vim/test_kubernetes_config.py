"""Validation of Kubernetes VIM account configs and the kubeconfig connection path."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from tests.support.fake_kube import FakeKube

from nfvo.vim.base import VimConfigError
from nfvo.vim.k8s.api import dns_label, quantity, tag_label
from nfvo.vim.kubernetes import KubernetesVim
from nfvo.vim.registry import create_driver, validate_config


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"namespace_prefix": "Bad_Prefix"}, "config.namespace_prefix"),
        ({"namespace_prefix": "x" * 21}, "config.namespace_prefix"),
        ({"verify_ssl": "yes"}, "config.verify_ssl"),
        ({"ca_cert": "not a pem"}, "config.ca_cert"),
        ({"images": "cirros"}, "config.images"),
        ({"request_timeout": 0}, "config.request_timeout"),
        ({"kubeconfig": "a: [unclosed"}, "config.kubeconfig"),
        ({"kubeconfig": "apiVersion: v1\nclusters: []\n"}, "config.kubeconfig.clusters"),
        ({"namespce_prefix": "x-"}, "config.namespce_prefix"),
        # hostile kubeconfigs (these were accepted with 201 and stored)
        (
            {"kubeconfig": "clusters: [1]\ncontexts: [2]\nusers: [3]\n"},
            "config.kubeconfig.clusters",
        ),
        ({"kubeconfig": "a: &a [x, x]\nb: &b [*a, *a]\nclusters: [*b]\n"}, "config.kubeconfig"),
        ({"kubeconfig": "clusters: !!python/object/apply:os.system ['true']"}, "config.kubeconfig"),
        ({"kubeconfig": "#" * (1 << 21)}, "config.kubeconfig"),
    ],
)
def test_invalid_config_names_the_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(VimConfigError) as info:
        validate_config("kubernetes", config)
    assert info.value.field == field


def test_defaults_are_filled_in() -> None:
    out = validate_config("kubernetes", {})
    assert out["namespace_prefix"] == "nfvo-" and out["verify_ssl"] is True
    assert out["images"] == []


def _kubeconfig(url: str, token: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": url}}],
            "users": [{"name": "u", "user": {"token": token}}],
            "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "ctx",
        }
    )


def test_kubeconfig_connects_with_a_private_configuration() -> None:
    from kubernetes import client

    before = client.Configuration.get_default_copy().host
    with FakeKube(token="kc-token") as fake:
        config = validate_config(
            "kubernetes",
            {"kubeconfig": _kubeconfig(fake.url, "kc-token"), "namespace_prefix": "t-"},
        )
        driver = create_driver(
            "kubernetes",
            vim_id="kc",
            vim_url=None,
            vim_user=None,
            vim_password=None,
            vim_tenant_name=None,
            config=config,
            data_dir=None,  # type: ignore[arg-type]
        )
        assert isinstance(driver, KubernetesVim)
        assert driver.check()["version"] == "v1.31.0-fake"
        assert fake.requests[-1].headers["authorization"] == "Bearer kc-token"
        assert driver.namespace_for({"nfvo.ns": "abc"}) == "t-abc"
    assert client.Configuration.get_default_copy().host == before


def test_names_and_labels_are_kubernetes_safe() -> None:
    assert dns_label("abc-123") == "abc-123"
    long = dns_label("A" * 80 + "/x", 40)
    assert len(long) <= 40 and long == long.lower() and "/" not in long
    assert tag_label("nfvo.ns", "ok-value") == ("tag.nfvo.io/nfvo.ns", "ok-value")
    key, value = tag_label("weird key!", "h-looks-hashed")
    assert key.startswith("tag.nfvo.io/h-") and value != "h-looks-hashed"
    assert quantity("500m") == 0.5 and quantity("2Gi") == 2 * 2**30 and quantity("3") == 3

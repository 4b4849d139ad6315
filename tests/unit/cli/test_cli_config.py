"""Client profiles: where the file lives, its permissions, and which profile, URL and
credentials a command ends up with."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from nfvo.cli.client.config import (
    EXPIRY_MARGIN_S,
    ConfigFile,
    Profile,
    config_dir,
    normalize_url,
    resolve,
)
from nfvo.cli.client.errors import UsageError


def test_config_dir_follows_xdg_then_home(tmp_path: Path) -> None:
    assert config_dir({"XDG_CONFIG_HOME": str(tmp_path / "x"), "HOME": "/h"}) == (
        tmp_path / "x" / "nfvo"
    )
    assert config_dir({"HOME": str(tmp_path)}) == tmp_path / ".config" / "nfvo"
    assert config_dir({"XDG_CONFIG_HOME": "", "HOME": str(tmp_path)}) == (
        tmp_path / ".config" / "nfvo"
    )


def test_save_is_private_whatever_the_umask(tmp_path: Path) -> None:
    directory = tmp_path / "cfg" / "nfvo"
    directory.mkdir(parents=True, mode=0o755)
    os.chmod(directory, 0o755)  # a directory made loosely before
    old = os.umask(0)
    try:
        cfg = ConfigFile(directory / "config.yaml", "default")
        cfg.profiles["default"] = Profile("default", "http://a:1", "admin", "tok", 123.0)
        cfg.save()
    finally:
        os.umask(old)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "config.yaml").stat().st_mode) == 0o600
    assert [p.name for p in directory.iterdir()] == ["config.yaml"]  # no temp file left
    again = ConfigFile.load(directory / "config.yaml")
    assert again.current == "default"
    assert again.profiles["default"] == Profile("default", "http://a:1", "admin", "tok", 123.0)


def test_new_directory_is_created_0700(tmp_path: Path) -> None:
    cfg = ConfigFile(tmp_path / "new" / "nfvo" / "config.yaml")
    cfg.save()
    assert stat.S_IMODE((tmp_path / "new" / "nfvo").stat().st_mode) == 0o700


def test_missing_file_is_empty_and_bad_file_is_a_usage_error(tmp_path: Path) -> None:
    empty = ConfigFile.load(tmp_path / "none.yaml")
    assert empty.profiles == {} and empty.current is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("profiles: [unclosed")
    with pytest.raises(UsageError, match="not valid YAML"):
        ConfigFile.load(bad)
    bad.write_text("- a list\n")
    with pytest.raises(UsageError, match="mapping"):
        ConfigFile.load(bad)


def _config(tmp_path: Path) -> ConfigFile:
    cfg = ConfigFile(tmp_path / "config.yaml", current="lab")
    cfg.profiles["default"] = Profile("default", "http://default:8080", "admin", "t-default")
    cfg.profiles["lab"] = Profile("lab", "http://lab:8080/", "ops", "t-lab")
    return cfg


def test_profile_selection_order(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    assert resolve(cfg, None, {}).profile_name == "lab"  # the current one
    assert resolve(cfg, None, {"NFVO_PROFILE": "default"}).profile_name == "default"
    t = resolve(cfg, "default", {"NFVO_PROFILE": "lab"})  # --profile wins
    assert t.profile_name == "default" and t.url == "http://default:8080"
    assert t.profile is cfg.profiles["default"]
    cfg.current = None
    assert resolve(cfg, None, {}).profile_name == "default"
    with pytest.raises(UsageError, match="no profile named 'nope'"):
        resolve(cfg, "nope", {})


def test_environment_overrides_and_token_scope(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    t = resolve(cfg, None, {})
    assert t.url == "http://lab:8080" and t.user == "ops" and not t.can_login
    # NFVO_URL to the profile's server keeps its token; to another server drops it
    t = resolve(cfg, None, {"NFVO_URL": "http://lab:8080", "NFVO_PASSWORD": "pw"})
    assert t.profile is cfg.profiles["lab"] and t.can_login
    t = resolve(cfg, None, {"NFVO_URL": "http://other:1"})
    assert t.url == "http://other:1" and t.profile is None and t.user is None
    # another user: the profile's token is not theirs
    t = resolve(cfg, None, {"NFVO_USER": "someone", "NFVO_PASSWORD": "pw"})
    assert t.profile is None and t.user == "someone" and t.can_login
    # no profile at all: env only, default URL otherwise
    empty = ConfigFile(tmp_path / "none.yaml")
    t = resolve(empty, None, {"NFVO_URL": "https://x/", "NFVO_USER": "u", "NFVO_PASSWORD": "p"})
    assert (t.url, t.user, t.password, t.profile) == ("https://x", "u", "p", None)
    assert resolve(empty, None, {}).url == "http://127.0.0.1:8080"
    # an unknown NFVO_PROFILE is fine when NFVO_URL says where to go
    assert resolve(empty, None, {"NFVO_PROFILE": "ci", "NFVO_URL": "http://ci:1"}).url


def test_url_must_have_a_scheme() -> None:
    assert normalize_url(" http://h:1/ ") == "http://h:1"
    with pytest.raises(UsageError, match="http:// or https://"):
        normalize_url("h:1")


def test_token_validity_has_a_margin() -> None:
    now = time.time()
    assert Profile("p", "http://h", token="t", expires_at=now + 3600).token_valid(now)
    assert not Profile(
        "p", "http://h", token="t", expires_at=now + EXPIRY_MARGIN_S - 1
    ).token_valid(now)
    assert not Profile("p", "http://h", token=None).token_valid(now)
    assert Profile("p", "http://h", token="t", expires_at=None).token_valid(now)

"""Configuration: the shipped config.toml documents the real defaults, and bad files say what is wrong."""

import pytest

from monitor.config import Config, ConfigError, load_config
from tests.conftest import ROOT


def test_shipped_config_file_states_exactly_the_built_in_defaults():
    loaded = load_config(ROOT / "config.toml", env={})
    assert loaded.database == Config().database
    assert {k: v for k, v in vars(loaded).items() if k != "source"} == {
        k: v for k, v in vars(Config()).items() if k != "source"}


def test_database_url_from_environment_overrides_the_file():
    loaded = load_config(ROOT / "config.toml", env={"KPIWATCH_DATABASE_URL": "postgresql://x@h/db"})
    assert loaded.database.url == "postgresql://x@h/db"


def test_secrets_come_only_from_the_environment(tmp_path):
    loaded = load_config(ROOT / "config.toml", env={"KPIWATCH_SMTP_PASSWORD": "s3cret"})
    assert loaded.smtp_password == "s3cret"
    bad = tmp_path / "config.toml"
    bad.write_text('[database]\npassword = "s3cret"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"database\.password: secrets never live in the config file"):
        load_config(bad, env={})


def test_unknown_key_is_named_with_its_section(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text('[database]\nuri = "sqlite://"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.toml: database\.uri: unknown key"):
        load_config(bad, env={})


def test_wrong_type_is_named_with_the_expected_type(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text('[targets]\nstrict_month_before = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"targets\.strict_month_before: expected true or false"):
        load_config(bad, env={})


def test_broken_toml_names_the_file(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[database\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.toml: not valid TOML"):
        load_config(bad, env={})


@pytest.mark.parametrize("url,reason", [
    ("nonsense", "database.url: not a database URL"),
    ("mysql://kpiwatch:pw@db/kpiwatch", "database.url: unsupported database 'mysql'"),
])
def test_a_database_url_the_store_cannot_open_is_named_with_where_it_came_from(tmp_path, url, reason):
    with pytest.raises(ConfigError, match=f"^KPIWATCH_DATABASE_URL: {reason}") as raised:
        load_config(ROOT / "config.toml", env={"KPIWATCH_DATABASE_URL": url})
    assert "pw" not in str(raised.value)
    file = tmp_path / "config.toml"
    file.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{file}: {reason}"):
        load_config(file, env={})


def test_plain_postgres_urls_are_accepted():
    for url in ("postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db", "sqlite://"):
        assert load_config(ROOT / "config.toml", env={"KPIWATCH_DATABASE_URL": url}).database.url == url


@pytest.mark.parametrize("section,key,value,reason", [
    ("smtp", "security", '"ssl"', "expected one of none, starttls, tls, got 'ssl'"),
    ("smtp", "port", "70000", "expected 1 to 65535, got 70000"),
    ("portal", "default_lang", '"fr"', "expected one of zh, en, got 'fr'"),
    ("reports", "monitor_through_month", "13", "expected 1 to 12, got 13"),
    ("reports", "monitor_due", '"13-40"', "expected a day of the year as MM-DD, got '13-40'"),
    ("reports", "selfeval_draft", '"02-29"', "expected a day of the year as MM-DD, got '02-29'"),
    ("scheduler", "timezone", '"Mars/Base"', "expected a time zone name such as Asia/Shanghai, got 'Mars/Base'"),
    ("scheduler", "evaluate_at", '"25:99"', "expected a time of day as HH:MM, got '25:99'"),
    ("notifications", "summary_weekday", "0", "expected 1 to 7, got 0"),
])
def test_a_value_out_of_range_is_named_when_the_file_is_read(tmp_path, section, key, value, reason):
    file = tmp_path / "config.toml"
    file.write_text(f"[{section}]\n{key} = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(file, env={})
    assert str(raised.value) == f"{file}: {section}.{key}: {reason}"


def test_a_rule_the_section_class_keeps_is_named_when_the_file_is_read(tmp_path):
    file = tmp_path / "config.toml"
    file.write_text("[smtp]\nmax_connections = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(file, env={})
    assert str(raised.value) == f"{file}: smtp.max_connections must be at least 1"

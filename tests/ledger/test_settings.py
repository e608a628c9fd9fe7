from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledger.settings import ConfigError, load_chart, load_company, load_environment, secret
from tests.conftest import EXAMPLE_CONFIG


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "company.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = '[company]\nid = "acme"\nname = "Acme 有限公司"\n'


def test_example_config_is_valid() -> None:
    config = load_company(EXAMPLE_CONFIG)
    chart = load_chart(config)
    assert config.company.base_currency == "CNY"
    assert config.tolerances.amount == Decimal("1.00")
    assert isinstance(config.tolerances.bank_fee_ratio, Decimal)
    codes = {a.code for a in chart.accounts}
    # every account the spec's posting rules use
    assert {"1002", "1122", "1221", "1405", "2202", "220202", "22210101", "22210102", "2241",
            "6001", "6603"} <= codes


def test_defaults_are_the_spec_tolerances(tmp_path: Path) -> None:
    tolerances = load_company(write(tmp_path, MINIMAL)).tolerances
    assert (tolerances.bank_fee_max, tolerances.bank_fee_ratio, tolerances.amount, tolerances.quantity,
            tolerances.unit_price_ratio, tolerances.ageing_days) == (
        Decimal("50.00"), Decimal("0.01"), Decimal("1.00"), Decimal(0), Decimal("0.01"), 30)


@pytest.mark.parametrize(("extra", "key", "found", "expected"), [
    ('[tolerances]\namount = "abc"\n', "tolerances.amount", "'abc'", "a decimal number"),
    ("[tolerances]\namount = -1\n", "tolerances.amount", "-1", "≥ 0"),
    ("[tolerances]\namout = 1\n", "tolerances.amout", "1", "no such key"),
    ('[schedule]\ntimezone = "Mars/Olympus"\n', "schedule.timezone", "'Mars/Olympus'", "IANA time zone"),
])
def test_bad_config_names_file_key_found_and_expected(tmp_path, extra, key, found, expected) -> None:
    path = write(tmp_path, MINIMAL + extra)
    with pytest.raises(ConfigError) as caught:
        load_company(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"key '{key}'" in message
    assert f"found {found}" in message
    assert expected in message


def test_missing_key_and_bad_tax_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"key 'company.name': found nothing, expected this key"):
        load_company(write(tmp_path, '[company]\nid = "acme"\n'))
    with pytest.raises(ConfigError, match=r"key 'company.tax_id'.*check digit"):
        load_company(write(tmp_path, MINIMAL + 'tax_id = "914403001922038217"\n'))
    with pytest.raises(ConfigError, match=r"key 'company.base_currency'.*ISO 4217"):
        load_company(write(tmp_path, MINIMAL + 'base_currency = "RMB"\n'))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_company(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_company(write(tmp_path, "[company\n"))


def test_bad_chart_names_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "chart.toml").write_text(
        'accounts = [{code = "1002", name = "银行存款", category = "asset", normal_side = "debit"},'
        '{code = "1002", name = "x", category = "asset", normal_side = "left"}]\n', encoding="utf-8")
    config = load_company(write(tmp_path, MINIMAL + 'chart_of_accounts = "chart.toml"\n'))
    with pytest.raises(ConfigError) as caught:
        load_chart(config)
    assert "chart.toml" in str(caught.value)
    assert "accounts.1.normal_side" in str(caught.value)


def test_secrets_come_from_dotenv_and_environment_wins(tmp_path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("YECAI_T_A=from-file\nYECAI_T_B=from-file\n")
    monkeypatch.setenv("YECAI_T_B", "from-env")
    monkeypatch.delenv("YECAI_T_A", raising=False)
    load_environment(tmp_path / ".env")
    assert secret("YECAI_T_A") == "from-file"
    assert secret("YECAI_T_B") == "from-env"
    assert secret("YECAI_T_UNSET") is None
    monkeypatch.delenv("YECAI_T_A")


def test_no_env_file_is_committed() -> None:
    root = EXAMPLE_CONFIG.parent.parent.parent
    assert (root / ".env.example").is_file()
    assert ".env" in (root / ".gitignore").read_text().split()

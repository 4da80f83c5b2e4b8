"""config.example.toml is valid, matches the defaults and documents every setting."""

import re
from pathlib import Path

from bot.config import (
    GuildSettings,
    QuietHours,
    Settings,
    Tier,
    check_config_file,
    load_settings,
    settings_from_data,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


EXAMPLE_CONFIG = REPO_ROOT / "config.example.toml"


def test_example_config_is_valid_and_matches_the_defaults() -> None:
    assert check_config_file(EXAMPLE_CONFIG, env={}) == []
    example = load_settings(EXAMPLE_CONFIG, env={})
    assert example == settings_from_data({}, env={})
    assert example.guild_defaults() == GuildSettings()


def test_example_config_documents_every_setting() -> None:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    for section in ("database", "logging", "intents", "sharding"):
        model = Settings.model_fields[section].annotation
        assert f"[{section}]" in text
        for key in model.model_fields:  # type: ignore[union-attr]
            assert re.search(rf"^#? ?{key} =", text, re.MULTILINE), f"{section}.{key} is not in the example"
    for section, field in GuildSettings.model_fields.items():
        if section == "timezone":
            continue
        assert f"[{section}]" in text
        for key in field.annotation.model_fields:  # type: ignore[union-attr]
            documented = re.search(rf"^#? ?{key} =|^#? ?\[+{section}\.{key}\]+$", text, re.MULTILINE)
            assert documented, f"{section}.{key} is not in the example"
    for key in [*Tier.model_fields, *QuietHours.model_fields]:
        assert re.search(rf"^#? ?{key} =", text, re.MULTILINE), f"{key} is not in the example"
    assert "[[escalation.tiers]]" in text and re.search(r"^timezone = ", text, re.MULTILINE)
    token_lines = [line for line in text.splitlines() if "token" in line.lower()]
    assert token_lines and all(line.lstrip().startswith("#") for line in token_lines)
    assert any("DISCORD_TOKEN" in line for line in token_lines)

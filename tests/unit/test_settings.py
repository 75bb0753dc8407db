import attrs
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_of_hypothesis
from hypothesis import strategies as st

from portail_adapters.settings import DEFAULTS, SETTINGS, Settings, SettingsError, load_settings


def settings(tmp_path, **env):
    base = {"PORTAIL_SECRET_KEY_FILE": str(tmp_path / "secret")}
    return load_settings({**base, **{f"PORTAIL_{k}": v for k, v in env.items()}})


def test_defaults_are_the_embedded_setup(tmp_path):
    s = settings(tmp_path)
    assert s.database_url == "sqlite:///var/portail.db"
    assert s.files_url == "file://var/files" and s.mail_url == "file://var/mail" and s.payment == "simulator"
    assert s.base_url == "http://127.0.0.1:8000"
    assert s.trusted_proxies == ""  # forwarded headers believed from nobody
    proxies = settings(tmp_path, TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/24,::1").trusted_proxies
    assert proxies == "127.0.0.1,10.0.0.0/24,::1"
    # The secret is generated once and kept.
    assert len(s.secret_key) >= 32 and settings(tmp_path).secret_key == s.secret_key
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "PORTAIL_DATABASE_URL: unknown scheme mysql://"),
        ({"FILES_URL": "ftp://x"}, "PORTAIL_FILES_URL: unknown scheme ftp://"),
        ({"MAIL_URL": "http://x"}, "PORTAIL_MAIL_URL: unknown scheme http://"),
        ({"PAYMENT": "paypal"}, "PORTAIL_PAYMENT: 'paypal' is not one of simulator, payfip"),
        ({"PAYMENT": "payfip"}, "PORTAIL_PAYFIP_NUMCLI:"),
        ({"PAYFIP_MODE": "Q"}, "PORTAIL_PAYFIP_MODE:"),
        ({"BASE_URL": "portail.example.fr"}, "PORTAIL_BASE_URL:"),
        ({"SECRET_KEY": "short"}, "PORTAIL_SECRET_KEY: at least 32 characters"),
        ({"FILES_URL": "s3://?endpoint=https://s3.example"}, "PORTAIL_FILES_URL: an s3:// URL names its bucket"),
        ({"PAYMENT": "payfip", "PAYFIP_NUMCLI": "123456", "PAYFIP_URL": "ftp://x"},
         "PORTAIL_PAYFIP_URL: unknown scheme ftp://"),
        ({"LOG_LEVEL": "verbose"}, "PORTAIL_LOG_LEVEL: 'verbose' is not one of DEBUG, INFO, WARNING, ERROR"),
        ({"UTILITY_NAME": "  "}, "PORTAIL_UTILITY_NAME: the utility's name cannot be empty"),
        ({"BASE_URL": "http://[::1"}, "PORTAIL_BASE_URL: Invalid IPv6 URL"),
        ({"SECRET_KEY_FILE": "var/\x00"}, "PORTAIL_SECRET_KEY_FILE: a path cannot hold a NUL character"),
        ({"TRUSTED_PROXIES": "*"}, "PORTAIL_TRUSTED_PROXIES: '*' is not an IP address or network"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_the_variable(tmp_path, env, line):
    with pytest.raises(SettingsError) as caught:
        settings(tmp_path, **env)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(line)


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(SettingsError) as caught:
        settings(tmp_path, DATABASE_URL="x://", PAYMENT="nope")
    assert len(caught.value.problems) == 2


def test_toml_file_then_environment(tmp_path):
    config = tmp_path / "portail.toml"
    config.write_text('database_url = "postgresql+psycopg://u@db/portail"\nutility_name = "Régie de Test"\n')
    s = settings(tmp_path, CONFIG=str(config))
    assert s.database_url == "postgresql+psycopg://u@db/portail" and s.utility_name == "Régie de Test"
    s = settings(tmp_path, CONFIG=str(config), UTILITY_NAME="Autre")
    assert s.utility_name == "Autre"


def test_toml_problems_are_named(tmp_path):
    config = tmp_path / "portail.toml"
    config.write_text("databse_url = 'x'\n")
    with pytest.raises(SettingsError, match="unknown setting 'databse_url'"):
        settings(tmp_path, CONFIG=str(config))
    config.write_text("not toml [")
    with pytest.raises(SettingsError, match="PORTAIL_CONFIG: .* is not valid TOML"):
        settings(tmp_path, CONFIG=str(config))


def test_parsed_values(tmp_path):
    s = settings(tmp_path, LOG_LEVEL="debug", BASE_URL="https://portail.example.fr/", PAYMENT="payfip",
                 PAYFIP_NUMCLI=" 012345 ", SECRET_KEY="s" * 32)
    assert s.log_level == "DEBUG" and s.base_url == "https://portail.example.fr" and s.https
    assert s.payfip_numcli == "012345" and s.secret_key == b"s" * 32
    assert not (tmp_path / "secret").exists()  # a key given: no file made


def test_the_table_is_the_settings():
    """Adding a setting is one entry in SETTINGS and its field on Settings: nothing else to keep in step."""
    fields = {field.name for field in attrs.fields(Settings)}
    assert {setting.name.lower() for setting in SETTINGS} - {"secret_key_file"} == fields
    assert {setting.name: setting.default for setting in SETTINGS} == DEFAULTS


@settings_of_hypothesis(max_examples=150, derandomize=True, deadline=None,
                        suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from([s.name for s in SETTINGS if s.name != "SECRET_KEY_FILE"]),
       value=st.text(st.characters(exclude_categories=("Cs",)), max_size=60))
def test_any_value_gives_settings_or_one_line_naming_the_variable(tmp_path, name, value):
    try:
        load_settings({"PORTAIL_SECRET_KEY_FILE": str(tmp_path / "secret"), f"PORTAIL_{name}": value},
                      create_secret=False)
    except SettingsError as exc:
        assert len(exc.problems) == 1
        [line] = exc.problems
        assert line.startswith(f"PORTAIL_{name}: ") and "\n" not in line


def test_limits_are_settings_and_what_the_pages_print(tmp_path):
    from datetime import timedelta

    from portail_adapters.bootstrap import config_from
    from portail_adapters.memory import FixedClock, MemoryDatabase
    from portail_web import create_app
    from tests.support import BASE_URL, WebClient, add_subscriber, make_portal

    s = settings(tmp_path, UPLOAD_MAX_MB="5", UPLOAD_QUOTA_MB="50", LINK_VALIDITY_MINUTES="15",
                 SESSION_IDLE_MINUTES="20", SESSION_MAX_HOURS="8", STAFF_SESSION_IDLE_MINUTES="10",
                 STAFF_SESSION_MAX_HOURS="4")
    limits = config_from(s).limits
    assert (limits.upload_max_bytes, limits.upload_quota_bytes) == (5 * 1024 * 1024, 50 * 1024 * 1024)
    assert limits.link_validity == timedelta(minutes=15)
    assert (limits.session_idle, limits.session_absolute) == (timedelta(minutes=20), timedelta(hours=8))
    assert (limits.staff_session_idle, limits.staff_session_absolute) == (timedelta(minutes=10), timedelta(hours=4))
    portal = make_portal(MemoryDatabase(), FixedClock())
    portal.config = attrs.evolve(portal.config, limits=limits)
    add_subscriber(portal, password="une-phrase-de-passe-solide")
    with WebClient(create_app(portal), base_url=BASE_URL) as web:
        web.login("marie@example.org", "une-phrase-de-passe-solide")
        assert "PDF, JPEG ou PNG, 5 Mo au plus." in web.get("/demandes/nouvelle").text


@pytest.mark.parametrize("env", [{"UPLOAD_MAX_MB": "0"}, {"UPLOAD_QUOTA_MB": "dix"}, {"SESSION_MAX_HOURS": "48"},
                                 {"STAFF_SESSION_IDLE_MINUTES": "120"}])
def test_a_limit_out_of_range_is_one_line(tmp_path, env):
    with pytest.raises(SettingsError) as raised:
        settings(tmp_path, **env)
    (line,) = raised.value.problems
    assert line.startswith(f"PORTAIL_{next(iter(env))}: ")

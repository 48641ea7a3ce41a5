"""corsgen init: the starter policy, and FastAPI's CORSMiddleware translated into a policy."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.init import default_name
from corsgen.policy import ALL_METHODS, Policy, load_policy
from corsgen.render import render
from tests.test_server_config import APACHE, NGINX, assert_both_servers_accept, need

SAFELISTED = ("Accept", "Accept-Language", "Content-Language", "Content-Type")

# The CORS example of FastAPI's documentation (tutorial/cors), as published.
FASTAPI_DOCS_EXAMPLE = """\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()

origins = [
    "http://localhost.tiangolo.com",
    "https://localhost.tiangolo.com",
    "http://localhost",
    "http://localhost:8080",
]

app.add_middleware(
    CORSMiddleware,
    allow_origins=origins,
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)


@app.get("/")
async def main():
    return {"message": "Hello World"}
"""
# The keywords of FASTAPI_DOCS_EXAMPLE's add_middleware, as values.
FASTAPI_DOCS_SETTINGS = {
    "allow_origins": [
        "http://localhost.tiangolo.com",
        "https://localhost.tiangolo.com",
        "http://localhost",
        "http://localhost:8080",
    ],
    "allow_credentials": True,
    "allow_methods": ["*"],
    "allow_headers": ["*"],
}


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def translate(tmp_path: Path, source: str, policy: str = "api.yaml"):
    """Run init --from-fastapi on ``source``; return the result and the policy's path."""
    application = tmp_path / "main.py"
    application.write_text(textwrap.dedent(source), encoding="utf-8")
    out = tmp_path / policy
    return run("init", str(out), "--from-fastapi", str(application)), out


def middleware_source(*keywords: str) -> str:
    """An application whose add_middleware(CORSMiddleware, ...) gets ``keywords`` as written,
    one a line from line 4 on (problems and notes name the line of each)."""
    lines = "".join(f"    {keyword},\n" for keyword in keywords)
    return (
        "from fastapi.middleware.cors import CORSMiddleware\n"
        f"app.add_middleware(\n    CORSMiddleware,\n{lines})\n"
    )


def translated(tmp_path: Path, source: str) -> Policy:
    result, out = translate(tmp_path, source)
    assert result.exit_code == 0, result.output
    return load_policy(out)


def refused(tmp_path: Path, source: str) -> list[str]:
    """The problem lines of a translation that must fail, after checking nothing was written."""
    result, out = translate(tmp_path, source)
    assert result.exit_code == 1, result.output
    assert not out.exists()
    lines = result.stderr.splitlines()
    assert lines[-1] == (
        f"corsgen: {tmp_path / 'main.py'}: the CORS settings cannot be translated as they "
        "are; nothing was written."
    )
    prefix = f"{tmp_path / 'main.py'}:"
    return [line.removeprefix(prefix) for line in lines[:-1]]


# --- the starter policy ---------------------------------------------------------------------


def test_init_writes_a_commented_starter_policy_that_validates(tmp_path):
    out = tmp_path / "edge" / "shop-api.yaml"
    result = run("init", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {out} (policy 'shop-api')\n"
    assert result.stdout == f"next: corsgen render {out} --target nginx --out-dir cors/\n"
    policy = load_policy(out)
    assert policy.name == "shop-api"
    assert [origin.text for origin in policy.origins] == [
        "https://app.example.com",
        "http://localhost:3000",
    ]
    assert policy.origin_regex == ()
    assert policy.allow_credentials is False
    assert policy.allow_methods == ("GET", "HEAD", "POST")
    assert policy.allow_headers == ("Content-Type",)
    assert policy.expose_headers == ()
    assert policy.max_age == 600
    assert policy.allow_private_network is False
    assert policy.block_disallowed_origins is False


def test_the_starter_policy_shows_every_key_with_a_comment_above_it(tmp_path):
    out = tmp_path / "api.yaml"
    run("init", str(out))
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# CORS policy for corsgen")
    for key in Policy.model_fields:
        (index,) = [i for i, line in enumerate(lines) if re.match(rf"^(# )?{key}:", line)]
        if key not in ("version", "name"):
            assert lines[index - 1].startswith("#"), f"{key} has no comment above it"


def test_the_starter_policy_passes_lint_strict_so_a_json_fetch_works(tmp_path):
    # allow_headers: [] would fail the preflight of every fetch() that sends JSON
    # (lint CORS012); the starter lists Content-Type, as Starlette allows it by default.
    out = tmp_path / "api.yaml"
    run("init", str(out))

    result = run("lint", "--strict", str(out))

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}: no warnings\n"
    assert "Content-Type" in load_policy(out).allow_headers


def test_init_writes_cors_policy_yaml_in_the_current_directory_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("init")
    assert result.exit_code == 0, result.output
    assert load_policy(tmp_path / "cors-policy.yaml").name == "cors-policy"


def test_init_refuses_to_overwrite_an_existing_file_without_force(tmp_path):
    out = tmp_path / "api.yaml"
    out.write_text("my policy\n")
    result = run("init", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"corsgen: {out} already exists; pass --force to overwrite it\n"
    assert out.read_text() == "my policy\n"
    result = run("init", str(out), "--force")
    assert result.exit_code == 0, result.output
    assert load_policy(out).name == "api"


def test_init_takes_the_name_from_the_option(tmp_path):
    out = tmp_path / "policy.yaml"
    assert run("init", str(out), "--name", "billing").exit_code == 0
    assert load_policy(out).name == "billing"


def test_an_invalid_name_is_a_usage_error_and_writes_nothing(tmp_path):
    out = tmp_path / "policy.yaml"
    result = run("init", str(out), "--name", "Billing API")
    assert result.exit_code == 2
    assert result.stderr == (
        "corsgen: --name: 'Billing API' is not a valid policy name: a lower-case letter "
        "followed by up to 62 of a-z 0-9 _ -\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("predict-api.yaml", "predict-api"),
        ("My API.yaml", "my-api"),
        ("2024_cors.yml", "cors"),
        ("Shop.API.v2.yaml", "shop-api-v2"),
        ("123.yaml", "api"),
        ("true.yaml", "true"),
    ],
)
def test_the_default_name_is_made_valid_from_the_file_name(filename, name):
    assert default_name(Path(filename)) == name


def test_a_name_that_yaml_reads_as_a_boolean_is_quoted(tmp_path):
    out = tmp_path / "true.yaml"
    assert run("init", str(out)).exit_code == 0
    assert 'name: "true"' in out.read_text()
    assert load_policy(out).name == "true"


@pytest.mark.parametrize("target", ["nginx", "apache"])
def test_the_starter_policy_renders(tmp_path, target):
    out = tmp_path / "api.yaml"
    run("init", str(out))
    result = run("render", str(out), "--target", target)
    assert result.exit_code == 0, result.output


# --- FastAPI: the documentation's example ----------------------------------------------------


def test_the_fastapi_docs_example_is_translated_into_this_exact_policy(tmp_path):
    result, out = translate(tmp_path, FASTAPI_DOCS_EXAMPLE, "predict-api.yaml")
    assert result.exit_code == 0, result.output
    assert out.read_text() == textwrap.dedent(
        """\
        # CORS policy translated by 'corsgen init --from-fastapi' from the CORSMiddleware at
        # main.py line 13: Starlette's effective settings, its defaults included.
        # Every key, default and rule: docs/policy.md in the corsgen sources.
        version: 1
        name: predict-api
        origins:
          - http://localhost.tiangolo.com
          - https://localhost.tiangolo.com
          - http://localhost
          - http://localhost:8080
        allow_credentials: true
        # allow_methods contains "*": DELETE GET HEAD OPTIONS PATCH POST PUT.
        allow_methods: "*"
        # allow_headers contains "*": the headers a preflight asks for are allowed.
        allow_headers: "*"
        expose_headers: []
        max_age: 600
        allow_private_network: false
        # Like Starlette: requests from other origins reach the application, without CORS
        # headers.
        block_disallowed_origins: false
        """
    )
    assert result.stderr.splitlines() == [
        f"corsgen: note: the CORSMiddleware at {tmp_path / 'main.py'}:13 may stay: the "
        "snippets answer preflights at the edge and hide the application's own CORS headers "
        "(see docs/migrating-from-fastapi.md)",
        f"wrote {out} (policy 'predict-api')",
    ]
    policy = load_policy(out)
    assert policy.allow_credentials is True
    assert policy.allow_methods == ALL_METHODS
    assert policy.reflects_request_headers


def test_the_translated_docs_example_renders_and_the_servers_accept_it(tmp_path):
    need(NGINX)
    need(APACHE)
    result, out = translate(tmp_path, FASTAPI_DOCS_EXAMPLE, "predict-api.yaml")
    assert result.exit_code == 0, result.output
    policy = load_policy(out)
    nginx = render(policy, "nginx").files
    assert nginx["predict-api.http.conf"].count('"http://localhost:8080" 1;') == 1
    assert (
        "map $corsgen_predict_api_edge_action $corsgen_predict_api_allow_methods {\n"
        '    default "";\n'
        '    preflight "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";\n'
        in nginx["predict-api.http.conf"]
    )
    apache = render(policy, "apache").files
    allowed = re.findall(
        r'^SetEnvIf Origin "(.+)" CORSGEN_PREDICT_API_ORIGIN_ALLOWED=1$',
        apache["predict-api.conf"],
        re.M,
    )
    for origin in (
        "http://localhost.tiangolo.com",
        "https://localhost.tiangolo.com",
        "http://localhost",
        "http://localhost:8080",
    ):
        assert any(re.fullmatch(regex, origin) for regex in allowed), origin
    assert_both_servers_accept(tmp_path, [out])


# --- FastAPI: variants that translate ------------------------------------------------------


def test_starlettes_defaults_are_translated_not_corsgens(tmp_path):
    policy = translated(
        tmp_path,
        """\
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
        """,
    )
    assert [origin.text for origin in policy.origins] == ["https://app.example.com"]
    assert policy.allow_methods == ("GET",)  # Starlette's default, not corsgen's GET HEAD POST
    assert policy.allow_headers == SAFELISTED  # Starlette always allows these four
    assert policy.allow_credentials is False
    assert policy.expose_headers == ()
    assert policy.max_age == 600


def test_listed_headers_come_first_and_the_safelisted_ones_are_added_once(tmp_path):
    policy = translated(
        tmp_path,
        middleware_source(
            'allow_origins=["https://app.example.com"]',
            'allow_headers=["Authorization", "content-type"]',
            'expose_headers=("X-Request-Id",)',
        ),
    )
    assert policy.allow_headers == (
        "Authorization",
        "content-type",
        "Accept",
        "Accept-Language",
        "Content-Language",
    )
    assert policy.expose_headers == ("X-Request-Id",)


def test_names_bound_to_literals_in_the_module_or_the_function_are_followed(tmp_path):
    policy = translated(
        tmp_path,
        """\
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        FRONTEND = "https://app.example.com"
        PRODUCTION: tuple[str, ...] = (FRONTEND, "https://admin.example.com")
        HEADERS = ["Authorization"]

        def create_app() -> FastAPI:
            app = FastAPI()
            development = ["http://localhost:5173"]
            app.add_middleware(
                CORSMiddleware,
                allow_origins=PRODUCTION + development,
                allow_headers=HEADERS,
            )
            return app
        """,
    )
    assert [origin.text for origin in policy.origins] == [
        "https://app.example.com",
        "https://admin.example.com",
        "http://localhost:5173",
    ]
    assert policy.allow_headers == ("Authorization", *SAFELISTED)


def test_arithmetic_on_literal_numbers_is_read(tmp_path):
    policy = translated(
        tmp_path,
        """\
        from fastapi.middleware.cors import CORSMiddleware
        HOUR = 60 * 60
        app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"],
                           max_age=2 * HOUR)
        """,
    )
    assert policy.max_age == 7200


def test_allow_origin_regex_is_kept_and_anchored_like_starlettes_fullmatch(tmp_path):
    policy = translated(
        tmp_path,
        middleware_source(
            'allow_origins=["https://app.example.com"]',
            r'allow_origin_regex=r"https://pr-[0-9]+\.preview\.example\.dev"',
        ),
    )
    assert policy.origin_regex == (r"https://pr-[0-9]+\.preview\.example\.dev",)
    apache = render(policy, "apache").files["api.conf"]
    assert (
        r'SetEnvIf Origin "^(?:https://pr-[0-9]+\.preview\.example\.dev)$" '
        "CORSGEN_API_ORIGIN_ALLOWED=1"
    ) in apache.splitlines()
    nginx = render(policy, "nginx").files["api.http.conf"]
    assert r'    "~^(?:https://pr-[0-9]+\.preview\.example\.dev)$" 1;' in nginx.splitlines()


def test_any_origin_without_credentials_becomes_star(tmp_path):
    result, out = translate(
        tmp_path,
        """\
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])
        """,
    )
    assert result.exit_code == 0, result.output
    assert 'origins: "*"\n' in out.read_text()
    policy = load_policy(out)
    assert policy.allows_any_origin
    assert policy.allow_credentials is False
    location = render(policy, "nginx").files["api.location.conf"].splitlines()
    assert 'add_header Access-Control-Allow-Origin "*" always;' in location


def test_the_middleware_given_to_the_application_constructor_is_found(tmp_path):
    policy = translated(
        tmp_path,
        """\
        from fastapi import FastAPI
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware as Cors

        app = FastAPI(middleware=[Middleware(Cors, allow_origins=["https://a.example.com"],
                                             allow_private_network=True)])
        """,
    )
    assert [origin.text for origin in policy.origins] == ["https://a.example.com"]
    assert policy.allow_private_network is True


def test_an_origin_starlette_never_matched_as_written_is_normalised_with_a_note(tmp_path):
    result, out = translate(
        tmp_path,
        middleware_source('allow_origins=["https://app.example.com/", "HTTP://LOCALHOST:80"]'),
    )
    assert result.exit_code == 0, result.output
    assert [origin.text for origin in load_policy(out).origins] == [
        "https://app.example.com",
        "http://localhost",
    ]
    notes = [line for line in result.stderr.splitlines() if line.startswith("corsgen: note:")]
    assert notes[:2] == [
        "corsgen: note: line 4: 'https://app.example.com/' is written 'https://app.example.com' "
        "in the policy; browsers send the latter, which Starlette's exact comparison never "
        "matched, so the edge now allows it",
        "corsgen: note: line 4: 'HTTP://LOCALHOST:80' is written 'http://localhost' in the "
        "policy; browsers send the latter, which Starlette's exact comparison never matched, "
        "so the edge now allows it",
    ]


def test_a_max_age_above_corsgens_limit_is_capped_with_a_note(tmp_path):
    result, out = translate(
        tmp_path,
        """\
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"],
                           max_age=100000)
        """,
    )
    assert result.exit_code == 0, result.output
    assert load_policy(out).max_age == 86400
    assert (
        "corsgen: note: max_age 100000 is above corsgen's limit; written as 86400 (browsers "
        "cap it at 86400 or less anyway)"
    ) in result.stderr.splitlines()


# --- FastAPI: what cannot be translated --------------------------------------------------------


def test_any_origin_with_credentials_is_refused_and_explained(tmp_path):
    problems = refused(tmp_path, middleware_source('allow_origins=["*"]', "allow_credentials=True"))
    assert problems == [
        "4: allow_origins: '*' with allow_credentials=True: Starlette then echoes every "
        "request's Origin with Access-Control-Allow-Credentials: true, so any site can act as "
        "the signed-in user. corsgen refuses this; list the origins of your front-ends "
        "instead (or drop allow_credentials)"
    ]


def test_values_computed_at_run_time_are_refused_with_their_line(tmp_path):
    problems = refused(
        tmp_path,
        """\
        import os
        from fastapi.middleware.cors import CORSMiddleware
        from app.settings import settings
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[str(origin) for origin in settings.BACKEND_CORS_ORIGINS],
            allow_methods=os.environ["METHODS"].split(","),
            allow_headers=settings.HEADERS,
        )
        """,
    )
    tail = (
        ": corsgen init reads only literal values and names bound to them in this module; "
        "write this setting into the policy by hand"
    )
    assert problems == [
        "6: allow_origins: [str(origin) for origin in settings.BACKEND_CORS_ORIGINS] is "
        "computed at run time" + tail,
        "7: allow_methods: os.environ['METHODS'].split(',') is computed at run time" + tail,
        "8: allow_headers: settings.HEADERS is computed at run time" + tail,
    ]


@pytest.mark.parametrize(
    ("binding", "reason"),
    [
        ("from config import ORIGINS", "'ORIGINS' is not bound to a literal value"),
        ("ORIGINS = ['https://a.example.com']\nORIGINS = []", "'ORIGINS' is bound more than once"),
        (
            "ORIGINS = ['https://a.example.com']\nORIGINS.append('https://b.example.com')",
            "'ORIGINS' is changed after it is bound (append, +=, item assignment)",
        ),
        ("for ORIGINS in [[]]:\n    pass", "'ORIGINS' is not bound to a literal value"),
        ("", "'ORIGINS' is not bound in this module (imported or built at run time)"),
    ],
)
def test_names_not_bound_to_one_literal_are_refused(tmp_path, binding, reason):
    source = (
        "from fastapi.middleware.cors import CORSMiddleware\n"
        f"{binding}\n"
        "app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)\n"
    )
    problems = refused(tmp_path, source)
    line = source.count("\n")
    assert problems == [
        f"{line}: allow_origins: ORIGINS {reason}: corsgen init reads only literal values and "
        "names bound to them in this module; write this setting into the policy by hand"
    ]


def test_a_regex_outside_corsgens_subset_is_refused(tmp_path):
    problems = refused(
        tmp_path,
        middleware_source(
            'allow_origins=["https://app.example.com"]',
            r'allow_origin_regex=r"(?i)https://.*\.example\.com"',
        ),
    )
    assert problems == [
        # corsgen quotes the entry with repr(), which doubles each backslash.
        r"5: entry '(?i)https://.*\\.example\\.com': the inline flags '(?i)' at position 1 "
        "is not in the subset Python and PCRE share: named groups, backreferences, look-around "
        "and inline flags are errors (use plain (...) or (?:...) groups)"
    ]


def test_a_wildcard_that_starlette_compared_literally_is_refused(tmp_path):
    problems = refused(
        tmp_path,
        """\
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=["https://*.example.org"])
        """,
    )
    assert problems == [
        "2: allow_origins: 'https://*.example.org': Starlette compares allow_origins as plain "
        "strings, so this entry never matched any Origin; in a corsgen policy it would allow "
        "every matching origin. If that is what you want, write it into the policy by hand"
    ]


def test_every_problem_is_reported_in_one_run_with_corsgens_own_messages(tmp_path):
    problems = refused(
        tmp_path,
        middleware_source(
            'allow_origins=["https://a.example.com/app"]',
            'allow_headers="Authorization"',
            "max_age=-1",
            "allow_everything=True",
        ),
    )
    assert problems == [
        "4: entry 'https://a.example.com/app': has a path after the host; an origin is only "
        "scheme://host[:port] (browsers never send more)",
        "5: allow_headers: is the string 'Authorization', not a list: Starlette would test it "
        'character by character; write a list such as ["..."]',
        "6: entry 'max_age': -1 must be at least 0",
        "7: allow_everything: is not a CORSMiddleware setting",
    ]


def test_only_a_regex_and_no_origin_cannot_be_a_policy(tmp_path):
    problems = refused(
        tmp_path,
        """\
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origin_regex="https://.*[.]example[.]com")
        """,
    )
    assert problems == [
        "2: allow_origins: is empty: a corsgen policy needs at least one entry in origins "
        "besides origin_regex; add your main front-end's origin to allow_origins (or to the "
        "policy by hand)"
    ]


def test_settings_expanded_from_a_dict_are_refused(tmp_path):
    problems = refused(
        tmp_path,
        """\
        from fastapi.middleware.cors import CORSMiddleware
        CORS = {"allow_origins": ["https://a.example.com"]}
        app.add_middleware(CORSMiddleware, **CORS)
        """,
    )
    assert problems[0] == (
        "3: **CORS is expanded at run time; write the settings as keywords with literal values"
    )


def test_a_file_without_the_middleware_says_so(tmp_path):
    problems = refused(tmp_path, "from fastapi import FastAPI\napp = FastAPI()\n")
    assert problems == [
        " no app.add_middleware(CORSMiddleware, ...) or Middleware(CORSMiddleware, ...) found"
    ]


def test_two_middlewares_are_refused(tmp_path):
    problems = refused(
        tmp_path,
        """\
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"])
        admin.add_middleware(CORSMiddleware, allow_origins=["https://b.example.com"])
        """,
    )
    assert problems == [
        "3: CORSMiddleware is configured 2 times (lines 2, 3); corsgen init translates one: "
        "write one policy per application"
    ]


def test_a_file_that_is_not_python_is_refused(tmp_path):
    assert refused(tmp_path, "app.add_middleware(CORSMiddleware,\n") == [
        "1: not valid Python: '(' was never closed"
    ]


def test_a_missing_application_file_is_a_usage_error(tmp_path):
    result = run("init", str(tmp_path / "api.yaml"), "--from-fastapi", str(tmp_path / "no.py"))
    assert result.exit_code == 2
    assert not (tmp_path / "api.yaml").exists()


# --- the translation against Starlette itself -----------------------------------------------

STARLETTE_CASES = {
    "docs-example": FASTAPI_DOCS_SETTINGS,
    "regex-and-defaults": {
        "allow_origins": ["https://app.example.com"],
        "allow_origin_regex": r"https://pr-[0-9]+\.preview\.example\.dev",
    },
    "any-origin": {
        "allow_origins": ["*"],
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["Authorization"],
        "expose_headers": ["X-Request-Id"],
        "max_age": 3600,
    },
}
# Origins as browsers send them: the two must agree on every one.
BROWSER_ORIGINS = [
    "http://localhost",
    "http://localhost:8080",
    "http://localhost:8081",
    "https://localhost",
    "http://localhost.tiangolo.com",
    "https://localhost.tiangolo.com",
    "http://localhost.tiangolo.com.evil.example",
    "https://app.example.com",
    "https://app.example.com.evil.example",
    "https://pr-12.preview.example.dev",
    "https://pr-x.preview.example.dev",
    "https://pr-12.preview.example.dev.evil.example",
    "https://pr-12-preview.example.dev",
    "null",
]


@pytest.mark.parametrize("case", sorted(STARLETTE_CASES))
def test_the_policy_allows_what_starlettes_middleware_allows(tmp_path, case):
    from starlette.middleware.cors import CORSMiddleware

    from corsgen.evaluate import match_origin

    settings = STARLETTE_CASES[case]
    keywords = ", ".join(f"{key}={value!r}" for key, value in settings.items())
    policy = translated(
        tmp_path,
        "from fastapi.middleware.cors import CORSMiddleware\n"
        f"app.add_middleware(CORSMiddleware, {keywords})\n",
    )
    middleware = CORSMiddleware(app=None, **settings)
    for origin in BROWSER_ORIGINS:
        match = match_origin(policy, origin)
        assert (match.allowed and not match.either) == middleware.is_allowed_origin(origin), origin
    preflight = middleware.preflight_headers
    # Starlette 1.x's "*" also covers the QUERY method, which corsgen's "*" set does not.
    assert set(policy.allow_methods) == (
        set(preflight["Access-Control-Allow-Methods"].split(", ")) - {"QUERY"}
    )
    if middleware.allow_all_headers:
        assert policy.reflects_request_headers
    else:
        assert {name.lower() for name in policy.allow_headers} == {
            name.lower() for name in preflight["Access-Control-Allow-Headers"].split(", ")
        }
    assert str(policy.max_age) == preflight["Access-Control-Max-Age"]
    assert policy.allow_credentials is middleware.allow_credentials
    assert ", ".join(policy.expose_headers) == middleware.simple_headers.get(
        "Access-Control-Expose-Headers", ""
    )


def test_the_middleware_class_may_be_passed_by_keyword_and_other_calls_are_ignored(tmp_path):
    policy = translated(
        tmp_path,
        """\
        from fastapi.middleware.cors import CORSMiddleware
        assert issubclass(CORSMiddleware, object)
        app.add_middleware(middleware_class=CORSMiddleware, allow_origins=["https://a.example.com"])
        """,
    )
    assert [origin.text for origin in policy.origins] == ["https://a.example.com"]

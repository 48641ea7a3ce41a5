"""init --from-ingress-nginx: ingress-nginx's effective CORS settings, defaults made explicit."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corsgen.cli import app
from corsgen.evaluate import Request, evaluate
from corsgen.from_ingress_nginx import METHODS_VALUE, IngressError, translate_ingress_nginx
from corsgen.policy import ALL_METHODS, load_policy
from tests.conftest import REPO

MANIFESTS = REPO / "tests" / "manifests"
SHOP = MANIFESTS / "ingress-nginx.yaml"
DEFAULTS = MANIFESTS / "ingress-nginx-defaults.yaml"


def translate(path: Path, folder: Path | None = None):
    return translate_ingress_nginx(path.read_text(), path, folder or Path("policies"))


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_one_policy_per_distinct_annotation_set_named_after_its_first_ingress():
    translations = translate(SHOP)
    assert [t.name for t in translations] == ["shop-api", "catalog"]
    # shop-api-v2 has the same annotations as shop-api: one policy for both.
    assert "shop/shop-api, shop/shop-api-v2" in translations[0].text
    # static has cors-* annotations but no enable-cors: ingress-nginx answered no CORS.
    assert any("shop/static" in note and "enable-cors" in note for note in translations[0].notes)


def test_the_annotations_as_written_are_kept():
    shop = translate(SHOP)[0].policy
    assert [o.text for o in shop.origins] == ["https://shop.example.com"]
    assert shop.allow_methods == ("GET", "POST", "PUT", "DELETE")
    assert shop.allow_headers == ("Authorization", "Content-Type")
    assert shop.expose_headers == ("X-Request-Id",)
    assert shop.max_age == 600


def test_the_implicit_defaults_are_made_explicit():
    catalog = translate(SHOP)[1]
    policy = catalog.policy
    assert policy.allows_any_origin  # no cors-allow-origin: '*'
    assert policy.allow_credentials is False  # written in the annotation
    assert policy.allow_methods == ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS")
    assert policy.allow_headers[:3] == ("DNT", "Keep-Alive", "User-Agent")
    assert "Authorization" in policy.allow_headers
    # The 20-day default is above what browsers use; written as corsgen's limit.
    assert policy.max_age == 86400
    assert "ingress-nginx's default, 1728000" in catalog.text
    for key in ("allow_methods", "allow_headers", "expose_headers"):
        assert re.search(rf"^# No .*\n{key}: ", catalog.text, re.M), key


def test_credentials_default_true_is_written_with_its_reason():
    text = translate(SHOP)[0].text
    assert re.search(r"cors-allow-credentials: ingress-nginx's default,\n# true\.\n", text)
    assert "allow_credentials: true" in text


def test_the_one_label_wildcard_becomes_a_one_label_regex_and_the_note_says_how_to_widen():
    shop = translate(SHOP)[0]
    assert shop.policy.origin_regex == (r"^https://[a-z0-9-]+\.shop\.example\.com$",)
    [note] = [note for note in shop.notes if "exactly one label" in note]
    assert "write it into origins instead" in note
    # One label, as ingress-nginx matched: not two, and never the apex.
    allowed = {
        origin: "Access-Control-Allow-Origin"
        in evaluate(shop.policy, Request(origin=origin)).headers
        for origin in (
            "https://eu.shop.example.com",
            "https://a.eu.shop.example.com",
            "https://shop.example.com",
            "https://evilshop.example.com",
        )
    }
    assert allowed == {
        "https://eu.shop.example.com": True,
        "https://a.eu.shop.example.com": False,
        "https://shop.example.com": True,
        "https://evilshop.example.com": False,
    }


def test_any_origin_with_the_default_credentials_is_refused_with_the_fix():
    with pytest.raises(IngressError) as refused:
        translate(DEFAULTS)
    [problem] = refused.value.problems
    message = problem.format(DEFAULTS)
    # The same refusal as a hand-written policy's ...
    assert "cannot be true with origins '*'" in message
    # ... at the Ingress's annotations, with the fix for these annotations.
    assert problem.line == 8
    assert 'cors-allow-credentials: "false"' in message
    assert "list the front-ends' origins" in message


def test_a_file_without_cors_enabled_is_an_error():
    text = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\n"
    with pytest.raises(IngressError, match="no Ingress with"):
        translate_ingress_nginx(text, Path("x.yaml"), Path("."))


def test_invalid_methods_fall_back_to_the_default_as_ingress_nginx_does():
    text = SHOP.read_text().replace('"GET, POST, PUT, DELETE"', '"GET; rm -rf"', 1)
    shop = translate_ingress_nginx(text, SHOP, Path("."))[0]
    assert shop.policy.allow_methods == ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS")
    assert any("refused by ingress-nginx" in note for note in shop.notes)


def test_init_writes_the_policies_into_the_folder_lints_them_and_suggests_the_next_step(
    tmp_path: Path,
):
    folder = tmp_path / "policies"
    result = run("init", "--from-ingress-nginx", str(SHOP), str(folder))
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == ["catalog.yaml", "shop-api.yaml"]
    assert load_policy(folder / "catalog.yaml").allows_any_origin
    assert "corsgen: lint:" in result.stderr and "max-age-over-browser-cap" in result.stderr
    assert "exactly one label" in result.stderr
    assert f"corsgen render {folder} --target gateway-api" in result.stdout


def test_init_refuses_to_overwrite_without_force(tmp_path: Path):
    folder = tmp_path / "policies"
    assert run("init", "--from-ingress-nginx", str(SHOP), str(folder)).exit_code == 0
    again = run("init", "--from-ingress-nginx", str(SHOP), str(folder))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert run("init", "--from-ingress-nginx", str(SHOP), str(folder), "--force").exit_code == 0


def test_init_writes_nothing_when_a_set_is_refused(tmp_path: Path):
    folder = tmp_path / "policies"
    result = run("init", "--from-ingress-nginx", str(DEFAULTS), str(folder))
    assert result.exit_code == 1
    assert "nothing was written" in result.stderr
    assert not folder.exists()


def test_the_sources_exclude_each_other_and_name_does_not_apply(tmp_path: Path):
    both = run(
        "init", "--from-ingress-nginx", str(SHOP), "--from-httproute", str(SHOP), str(tmp_path)
    )
    assert both.exit_code == 2
    named = run("init", "--from-ingress-nginx", str(SHOP), "--name", "x", str(tmp_path / "p"))
    assert named.exit_code == 2 and "named after its Ingress" in named.stderr


def test_star_methods_are_not_what_ingress_nginx_defaults_to():
    # ingress-nginx's default method list is not corsgen's "*": HEAD is missing from it.
    catalog = translate(SHOP)[1].policy
    assert set(catalog.allow_methods) != set(ALL_METHODS)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("GET, POST", True),
        ("GET,POST", True),
        ("GET POST", True),
        ("GET, POST, ", True),
        ("GET,, POST", False),
        ("GET;POST", False),
        ("A" * 5000 + ";", False),
    ],
)
def test_ingress_nginx_method_values_are_checked_in_linear_time(value: str, valid: bool):
    # ingress-nginx's ^([A-Za-z]+,?\s?)+$, without the exponential backtracking.
    started = time.monotonic()
    assert bool(METHODS_VALUE.match(value)) is valid
    assert time.monotonic() - started < 0.5

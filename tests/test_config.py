"""Configuration: defaults in code, TOML on top, command-line overrides on top, clear errors."""

from __future__ import annotations

import pytest

from kefu_corpus.config import PARAMS, Config, config_reference_markdown, load_config, parse_override
from kefu_corpus.errors import KefuError


def test_every_key_has_a_default_and_the_defaults_validate():
    config = Config.from_mapping({s: {k: p.default for k, p in t.items()} for s, t in PARAMS.items()})
    assert config.as_dict() == Config().as_dict()


def test_toml_then_overrides(tmp_path):
    path = tmp_path / "kefu.toml"
    path.write_text('[run]\nworkers = 3\n[ingest]\nmax_passage_chars = 500\n', encoding="utf-8")
    config = load_config(path)
    assert config["run.workers"] == 3 and config["ingest.max_passage_chars"] == 500
    assert config["ingest.header_lines"] == PARAMS["ingest"]["header_lines"].default
    config = config.with_overrides(dict([parse_override("run.workers=1")]))
    assert config["run.workers"] == 1 and config["ingest.max_passage_chars"] == 500


def test_kefu_toml_in_the_working_directory_is_found_and_said_so(tmp_path, caplog):
    caplog.set_level("WARNING", logger="kefu_corpus.config")  # whatever an earlier CLI test set
    (tmp_path / "kefu.toml").write_text('[output]\ncompression = "snappy"\n', encoding="utf-8")
    assert load_config(search_dir=tmp_path)["output.compression"] == "snappy"
    assert f"Using the config file {tmp_path.resolve() / 'kefu.toml'}" in caplog.text
    assert load_config(search_dir=tmp_path / "nowhere")["output.compression"] == "zstd"


@pytest.mark.parametrize("data,expected", [
    ({"run": {"workers": "ten"}}, "The 'run.workers' parameter must be an int >= 0. Got 'ten' instead."),
    ({"run": {"workers": -1}}, "must be an int >= 0. Got -1"),
    ({"ingest": {"on_decode_error": "ignore"}}, "must be one of 'reject', 'replace'"),
    ({"run": {"wokers": 2}}, "Unknown config key 'run.wokers'"),
    ({"ingets": {}}, "Unknown config section 'ingets'"),
])
def test_bad_values_are_named_with_the_fix(data, expected):
    with pytest.raises(KefuError) as err:
        Config.from_mapping(data, source="kefu.toml")
    assert expected in str(err.value)


def test_unknown_key_suggests_the_close_one():
    with pytest.raises(KefuError) as err:
        parse_override("run.wokers=2")
    assert "did you mean 'run.workers'" in err.value.hint


def test_broken_toml_names_the_file(tmp_path):
    path = tmp_path / "kefu.toml"
    path.write_text("[run\nworkers = 1\n", encoding="utf-8")
    with pytest.raises(KefuError, match="kefu.toml is not valid TOML"):
        load_config(path)


def test_reference_table_lists_every_key():
    table = config_reference_markdown()
    for section, params in PARAMS.items():
        for key in params:
            assert f"`{section}.{key}`" in table


def test_files_named_in_the_config_are_checked_and_never_printed(tmp_path):
    from kefu_corpus.text.rules import load_patterns
    from kefu_corpus.stages.segment import SegmentParams
    from kefu_corpus.text.segment import Segmenter

    secret = "list:x:38:38:Mailing List Manager:" + "s3cret-" * 40
    (tmp_path / "passwd").write_text(secret + "\n", encoding="utf-8")
    with pytest.raises(KefuError) as err:
        Segmenter(SegmentParams(user_dicts=(str(tmp_path / "passwd"),)))
    assert "line 1" in err.value.message and secret[:80] in err.value.message and secret not in err.value.message
    for path, what in (("/dev/zero", "not a regular file"), (str(tmp_path), "not a regular file"),
                       (str(tmp_path / "missing.txt"), "No such file")):
        with pytest.raises(KefuError, match=what):
            Segmenter(SegmentParams(stopwords=(path,)))
        with pytest.raises(KefuError, match=what):
            load_patterns(path)
    (tmp_path / "binary.toml").write_bytes(b"\x00\x01")
    with pytest.raises(KefuError, match="binary"):
        load_config(tmp_path / "binary.toml")

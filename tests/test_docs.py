"""The front page and the library page are code a reader runs: every ```python block of
README.md and docs/library.md runs on its own, in a fresh namespace."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("README.md", "docs/library.md")


def python_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), flags=re.S)


BLOCKS = [
    pytest.param(
        page, i, code, id=f"{page}#{i}", marks=[pytest.mark.slow] if "docs/" in page else []
    )
    for page in PAGES
    for i, code in enumerate(python_blocks(page))
]  # the library page's examples compile training steps: the long runs


@pytest.mark.parametrize("page, index, code", BLOCKS)
def test_a_documented_example_runs_on_its_own(page, index, code, request):
    if 'pretrained("squeezenet1_1")' in code:  # offline: the data folder's published weights
        request.getfixturevalue("data_dir")
        code = code.replace(
            'pretrained("squeezenet1_1")', 'pretrained("squeezenet1_1", "onnx_zoo")'
        )
    exec(compile(code, f"{page} block {index}", "exec"), {"__name__": "__docs__"})


def test_every_page_the_readme_links_exists():
    links = re.findall(r"\]\(([^)#]+\.md)\)", (ROOT / "README.md").read_text())
    assert links and all((ROOT / link).is_file() for link in links), links

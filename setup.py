"""Package list: the `zerobus` tree plus the two top-level folders mapped into it (pyproject.toml)."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["zerobus", "zerobus.*"]),
        "zerobus.codegen",
        "zerobus.codegen.templates",
    ]
)

"""The compiled part of the package (everything else is in pyproject.toml): ledger verification's per-event and
per-row work (ccer/ledger/_core.c, issue #20), linked against OpenSSL's libcrypto for SHA-256."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("ccer.ledger._core", ["ccer/ledger/_core.c"], libraries=["crypto"],
                             # the format's mechanics, shared with the stand-alone verifier's accelerator
                             include_dirs=["verifier/ccer_verify"], depends=["verifier/ccer_verify/_format.h"],
                             extra_compile_args=["-O2", "-Wall"])])

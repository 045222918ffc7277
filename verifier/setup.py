"""The optional compiled accelerator (ccer_verify/_fast.c, on the ledger format's mechanics in _format.h): built when
a C compiler and OpenSSL's headers are there, skipped otherwise — the verifier then runs on Python alone, with the
same answers."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("ccer_verify._fast", ["ccer_verify/_fast.c"], depends=["ccer_verify/_format.h"],
                             libraries=["crypto"], extra_compile_args=["-O2"], optional=True)])

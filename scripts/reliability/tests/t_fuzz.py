"""libFuzzer over the playbook loader, the validator and the contacts loader (T17).

fuzz/build.sh compiles CrisisCore, CrisisPlaybook and Yams (with libyaml) straight from their sources with
`-sanitize=fuzzer,address` into .build-fuzz/ and links fuzz/harness.swift. The corpus starts from the shipped
playbooks, the contacts example, the test fixtures, the YAML attack corpus and every regression seed in
fuzz-seeds/. The regression seeds run first, then libFuzzer runs for 60 s (both tiers; set
RELIABILITY_FUZZ_SECONDS to change it).

Pass: 0 crashes, timeouts (> 10 s per input) or OOMs (> 2 GB). Any crashing input is copied into
scripts/reliability/fuzz-seeds/ as a regression seed. If the toolchain cannot build or link libFuzzer here,
the test is skipped in the ci tier and says so (it fails in the full tier); crisis's own sources failing to
compile for the harness fails it in every tier.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess

from lib.common import ROOT, SUITE, Result

SEEDS = os.path.join(SUITE, "fuzz-seeds")


def run(ctx) -> Result:
    seconds = int(os.environ.get("RELIABILITY_FUZZ_SECONDS", "60"))
    build = subprocess.run([os.path.join(SUITE, "fuzz", "build.sh")], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=1200)
    lines = build.stdout.decode(errors="replace").strip().splitlines()
    binary = lines[-1] if lines else ""
    if build.returncode != 0 or not os.path.exists(binary):
        why = "; ".join(l for l in lines if "error" in l.lower())[:300] or (lines[-1] if lines else "no output")
        if any(os.path.join(ROOT, "Sources") in l and "error:" in l for l in lines):
            # Our own sources do not compile for the harness: a regression, never a missing toolchain.
            return Result("fuzz", False, f"the harness does not compile: {why}",
                          ["scripts/reliability/fuzz/build.sh fails on crisis's sources"])
        return Result("fuzz", ctx.full is False, f"cannot build the libFuzzer harness here: {why}",
                      ["the toolchain could not build or link -sanitize=fuzzer,address"], skipped=not ctx.full)
    d = ctx.tempdir("fuzz")
    corpus = os.path.join(d, "corpus")
    artifacts = os.path.join(d, "artifacts") + "/"
    os.makedirs(corpus)
    os.makedirs(artifacts)
    starts = (glob.glob(os.path.join(ROOT, "Playbooks", "*.yaml")) + glob.glob(os.path.join(ROOT, "Examples", "*.yaml"))
              + glob.glob(os.path.join(ROOT, "Tests", "*", "Fixtures", "**", "*.yaml"), recursive=True)
              + glob.glob(os.path.join(SUITE, "yaml-attacks", "*.yaml")))
    for i, p in enumerate(starts):
        if os.path.getsize(p) <= 200_000:
            shutil.copy(p, os.path.join(corpus, f"{i:03d}-{os.path.basename(p)}"))
    seeds = sorted(p for p in glob.glob(os.path.join(SEEDS, "*")) if os.path.isfile(p) and not p.endswith(".md"))
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0:allocator_may_return_null=1"}
    problems = []
    # Regression seeds first: each must run clean.
    if seeds:
        r = subprocess.run([binary, "-timeout=10", "-rss_limit_mb=2048"] + seeds, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env, timeout=600)
        if r.returncode != 0:
            problems.append("a regression seed fails again: " + r.stdout.decode(errors="replace")[-600:])
        for s in seeds:
            shutil.copy(s, os.path.join(corpus, "seed-" + os.path.basename(s)))
    r = subprocess.run([binary, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
                        "-print_final_stats=1", f"-artifact_prefix={artifacts}", corpus],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=seconds + 600)
    out = r.stdout.decode(errors="replace")
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    runs = int(m.group(1)) if m else 0
    m = re.search(r"stat::peak_rss_mb:\s*(\d+)", out)
    rss = int(m.group(1)) if m else 0
    found = sorted(os.listdir(artifacts))
    kept = []
    for f in found:
        dest = os.path.join(SEEDS, f)
        shutil.copy(os.path.join(artifacts, f), dest)
        kept.append(os.path.relpath(dest, ROOT))
    if r.returncode != 0 or found:
        tail = "\n".join(l for l in out.splitlines() if "ERROR" in l or "SUMMARY" in l or "==" in l)[:800]
        problems.append(f"libFuzzer exit {r.returncode}; findings kept as regression seeds: {kept}; {tail}")
    ncorpus = len(os.listdir(corpus))
    figure = (f"{runs:,} inputs in {seconds} s, {len(found)} crashes/timeouts/OOMs, {len(seeds)} regression seeds "
              f"re-run, corpus {len(starts)} -> {ncorpus} files, peak RSS {rss} MB")
    return Result("fuzz", not problems, figure, problems)
